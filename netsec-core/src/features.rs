//! The 25 flow features of `FEATURES.md`, defined once.
