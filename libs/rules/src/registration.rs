//! Registering hours (Art. 17, 19, 21): the route a registration takes,
//! who may submit and confirm what on it, hours registered only once
//! earned, the deadlines, and an aid assignment's limits.
