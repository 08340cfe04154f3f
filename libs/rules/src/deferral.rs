//! Deferral and make-up (Art. 20): who certifies a deferral, and which
//! year's records may make up a deferred year.
