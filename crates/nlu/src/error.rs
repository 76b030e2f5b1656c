use thiserror::Error;

/// Errors of agent import and NLU set-up. Import errors name the file and the field.
#[derive(Debug, Error)]
pub enum NluError {
    #[error("{file}: {message}")]
    Import { file: String, message: String },
    #[error("{file}: field `{field}`: {message}")]
    Field {
        file: String,
        field: String,
        message: String,
    },
    #[error("i/o error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid entity `{entity}`: {message}")]
    Entity { entity: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl NluError {
    pub fn import(file: impl Into<String>, message: impl Into<String>) -> Self {
        NluError::Import {
            file: file.into(),
            message: message.into(),
        }
    }
    pub fn field(
        file: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        NluError::Field {
            file: file.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}
