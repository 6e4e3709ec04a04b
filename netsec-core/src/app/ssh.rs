//! SSH parser (in progress).
