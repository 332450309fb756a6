//! Errors reading a definition file.

/// A definition file could not be read: bad syntax, a wrong type, an unknown key.
#[derive(Debug, thiserror::Error)]
#[error("{format} definition: {message}")]
pub struct FormatError {
    format: &'static str,
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl FormatError {
    pub(crate) fn json(err: serde_json::Error) -> Self {
        let (line, column) = match err.line() {
            0 => (None, None),
            line => (Some(line), Some(err.column())),
        };
        Self {
            format: "JSON",
            message: err.to_string(),
            line,
            column,
        }
    }

    #[cfg(feature = "yaml")]
    pub(crate) fn yaml(err: &crate::limits::YamlError) -> Self {
        let (message, line, column) = err.parts();
        Self {
            format: "YAML",
            message,
            line,
            column,
        }
    }

    pub(crate) fn json_limit(err: crate::limits::LimitError) -> Self {
        Self {
            format: "JSON",
            line: err.line(),
            column: err.column(),
            message: err.message().to_owned(),
        }
    }

    #[cfg(feature = "yaml")]
    pub(crate) fn yaml_output(err: serde_saphyr::SerializeError) -> Self {
        Self {
            format: "YAML",
            message: err.to_string(),
            line: None,
            column: None,
        }
    }

    /// The 1-based line of the problem, when the parser knows it.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the problem, when the parser knows it.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}
