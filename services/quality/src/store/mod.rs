//! Quality monitoring's SQL, all of it. Functions take a connection so
//! callers compose them in one transaction.
//!
//! | module | tables |
//! |---|---|
//! | [`evidence`] | `evaluations`, `indicators` |
//! | [`score`] | `scores`, `score_history`, `institution_fields` |
//! | [`changes`] | `grade_changes` |
//! | [`periods`] | `period_closures` |
//! | [`state`] | the typed states these tables hold as integers |

use diesel::prelude::*;

use crate::schema::{evaluations, indicators, scores};

/// The institutions serving `field`, for filters.
macro_rules! serving {
    ($field:expr) => {
        institution_fields::table
            .filter(institution_fields::field.eq($field))
            .select(institution_fields::institution_id)
    };
}

pub mod changes;
pub mod evidence;
pub mod periods;
pub mod score;
pub mod state;

pub use changes::*;
pub use evidence::*;
pub use periods::*;
pub use score::*;
pub use state::{Closure, Graded};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = evaluations, treat_none_as_default_value = false)]
pub struct EvaluationRow {
    pub id: String,
    pub institution_id: String,
    pub period: String,
    pub learner: Option<String>,
    pub activity: Option<String>,
    pub score: i32,
    pub submitted_by: String,
    pub create_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = indicators)]
pub struct IndicatorRow {
    pub institution_id: String,
    pub period: String,
    pub indicator: i32,
    pub value: f64,
    pub samples: i64,
    pub source: String,
    pub take_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scores)]
pub struct ScoreRow {
    pub institution_id: String,
    pub period: String,
    pub province: String,
    pub field: i32,
    pub state: i32,
    pub score: f64,
    pub grade: String,
    pub body: Vec<u8>,
    pub compute_micros: i64,
}

impl ScoreRow {
    /// Its state, typed; `None` for a value no release stored.
    pub fn graded(&self) -> Option<Graded> {
        Graded::of(self.state)
    }
}
