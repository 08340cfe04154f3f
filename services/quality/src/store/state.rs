//! The states quality monitoring stores as integers, typed: the stored
//! values are the ones the migrations and earlier releases wrote.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Integer;

/// A stored score's state (`scores.state`): the values of the proto's
/// `ScoreState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Integer)]
pub enum Graded {
    /// Scored and graded.
    Scored,
    /// Too little evidence for a score.
    InsufficientData,
}

impl Graded {
    /// The stored value.
    pub const fn value(self) -> i32 {
        match self {
            Graded::Scored => 1,
            Graded::InsufficientData => 2,
        }
    }

    /// The state a stored value stands for.
    pub fn of(value: i32) -> Option<Graded> {
        match value {
            1 => Some(Graded::Scored),
            2 => Some(Graded::InsufficientData),
            _ => None,
        }
    }
}

/// Whether a period is closed for a province (`period_closures.closed`:
/// 1 closed, 0 open again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Integer)]
pub enum Closure {
    Open,
    Closed,
}

impl Closure {
    pub const fn value(self) -> i32 {
        match self {
            Closure::Open => 0,
            Closure::Closed => 1,
        }
    }

    pub fn of(value: i32) -> Option<Closure> {
        match value {
            0 => Some(Closure::Open),
            1 => Some(Closure::Closed),
            _ => None,
        }
    }
}

/// The stored value, as a `'static` reference the backends can bind.
fn stored(value: i32) -> &'static i32 {
    match value {
        0 => &0,
        1 => &1,
        _ => &2,
    }
}

macro_rules! integer_state {
    ($t:ty, $name:literal) => {
        impl<DB> ToSql<Integer, DB> for $t
        where
            DB: Backend,
            i32: ToSql<Integer, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                stored(self.value()).to_sql(out)
            }
        }

        impl<DB> FromSql<Integer, DB> for $t
        where
            DB: Backend,
            i32: FromSql<Integer, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let v = i32::from_sql(bytes)?;
                <$t>::of(v).ok_or_else(|| format!("{v} is not a stored {}", $name).into())
            }
        }
    };
}

integer_state!(Graded, "score state");
integer_state!(Closure, "period closure");
