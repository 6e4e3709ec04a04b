//! DNS parser (in progress).
