//! Credit hours (学时) as exact hundredths, so totals never drift the way
//! floating-point sums do (89.99999 is not 90).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// A number of credit hours, exact to 0.01.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(u32);

/// The most hours any single quantity may carry; beyond this a figure is a
/// typing error, not a claim.
const LIMIT_CENTI: u32 = 10_000_000;

impl Hours {
    pub const ZERO: Hours = Hours(0);

    /// Whole hours.
    pub const fn whole(h: u32) -> Hours {
        Hours(h * 100)
    }

    /// Hundredths of an hour.
    pub const fn from_centi(c: u32) -> Hours {
        Hours(c)
    }

    pub const fn centi(self) -> u32 {
        self.0
    }

    /// Hours from a decimal figure, rounded to 0.01. `None` for a negative,
    /// non-finite or absurdly large figure.
    pub fn from_f64(h: f64) -> Option<Hours> {
        if !h.is_finite() || h < 0.0 {
            return None;
        }
        let centi = (h * 100.0).round();
        if centi > f64::from(LIMIT_CENTI) {
            return None;
        }
        Some(Hours(centi as u32))
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// `self - other`, or zero.
    pub fn saturating_sub(self, other: Hours) -> Hours {
        Hours(self.0.saturating_sub(other.0))
    }

    /// `self × n`, saturating.
    pub fn times(self, n: u32) -> Hours {
        Hours(self.0.saturating_mul(n))
    }
}

impl Add for Hours {
    type Output = Hours;
    fn add(self, rhs: Hours) -> Hours {
        Hours(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Hours {
    fn add_assign(&mut self, rhs: Hours) {
        *self = *self + rhs;
    }
}

impl Sub for Hours {
    type Output = Hours;
    /// Saturating: hours never go negative.
    fn sub(self, rhs: Hours) -> Hours {
        self.saturating_sub(rhs)
    }
}

impl Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        iter.fold(Hours::ZERO, Add::add)
    }
}

impl fmt::Display for Hours {
    /// `10`, `2.5`, `0.25`: no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => write!(f, "{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{whole}.{}", f10 / 10),
            _ => write!(f, "{whole}.{frac:02}"),
        }
    }
}

impl serde::Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> serde::Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hours, D::Error> {
        let v = f64::deserialize(d)?;
        Hours::from_f64(v)
            .ok_or_else(|| serde::de::Error::custom(format!("{v} is not a number of hours")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_to_hundredths_and_print_without_trailing_zeros() {
        assert_eq!(Hours::from_f64(2.5), Some(Hours::from_centi(250)));
        assert_eq!(Hours::from_f64(0.333), Some(Hours::from_centi(33)));
        assert_eq!(Hours::from_f64(-1.0), None);
        assert_eq!(Hours::from_f64(f64::NAN), None);
        assert_eq!(Hours::from_f64(f64::INFINITY), None);
        assert_eq!(Hours::whole(15).to_string(), "15");
        assert_eq!(Hours::from_centi(250).to_string(), "2.5");
        assert_eq!(Hours::from_centi(225).to_string(), "2.25");
        assert_eq!(Hours::whole(3) - Hours::whole(5), Hours::ZERO);
    }
}
