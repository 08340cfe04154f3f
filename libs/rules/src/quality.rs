//! Quality monitoring (Art. 25): assessment periods, and when a grade is
//! poor enough to report.
