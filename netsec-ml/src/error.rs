//! Errors of training and scoring ([`MlError`]); model files have their own
//! [`ModelError`](crate::model::ModelError).

/// Why a model could not be trained or a batch could not be scored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MlError {
    /// A hyperparameter is out of range.
    #[error("invalid parameter {param}: {reason}")]
    InvalidParams {
        /// The parameter's field name.
        param: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The training data is empty.
    #[error("no training rows")]
    NoRows,
    /// Too few training rows for the model.
    #[error("{found} training rows, need at least {needed}")]
    TooFewRows {
        /// Rows needed.
        needed: usize,
        /// Rows given.
        found: usize,
    },
    /// Rows do not have one column per feature.
    #[error("rows have {found} columns, expected {expected}")]
    WrongWidth {
        /// Columns required ([`crate::inputs::INPUT_COUNT`]).
        expected: usize,
        /// Columns given.
        found: usize,
    },
    /// A training value is NaN or infinite.
    #[error("row {row}, column {column}: value is not finite")]
    NonFinite {
        /// Row index.
        row: usize,
        /// Column index.
        column: usize,
    },
    /// Labels do not fit the rows or the class names.
    #[error("invalid labels: {0}")]
    Labels(String),
    /// linfa rejected the parameters or the data.
    #[error("linfa: {0}")]
    Linfa(#[from] linfa::Error),
    /// A tree trained by linfa did not have the expected shape.
    #[error("unexpected tree from linfa: {0}")]
    Conversion(String),
}
