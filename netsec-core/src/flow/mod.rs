//! Bidirectional flows: key, table, statistics and exported records.
