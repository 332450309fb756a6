//! The error of an import, naming the file, JSON pointer and line of the problem.

use std::fmt;

/// What kind of problem stopped an import; see [`ImportError::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportErrorKind {
    /// The text is neither valid JSON nor valid YAML.
    Syntax,
    /// A document could not be read (file system or loader failure).
    Load,
    /// A `$ref` points nowhere, outside what the loader may fetch, or in a circle.
    Reference,
    /// The document is not an OpenAPI 3.x or Swagger 2.0 description.
    NotOpenApi,
}

/// An OpenAPI document could not be imported.
///
/// It names the file (absent for the in-memory root document), the JSON pointer
/// inside it and, when the parser knows them, the line and column.
#[derive(Debug, thiserror::Error)]
pub struct ImportError {
    kind: ImportErrorKind,
    file: Option<String>,
    pointer: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ImportError {
    pub(super) fn new(kind: ImportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            file: None,
            pointer: None,
            line: None,
            column: None,
            message: message.into(),
            source: None,
        }
    }

    pub(super) fn in_file(mut self, file: Option<String>) -> Self {
        self.file = file;
        self
    }

    pub(super) fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub(super) fn at_line(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    pub(super) fn caused_by(mut self, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        self.source = Some(source);
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ImportErrorKind {
        self.kind
    }

    /// The file (path or URL) holding the problem; `None` for the in-memory root document.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The JSON pointer of the offending node inside [`file`](Self::file), when known.
    pub fn pointer(&self) -> Option<&str> {
        self.pointer.as_deref()
    }

    /// The 1-based line of the problem, when the parser knows it.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the problem, when the parser knows it.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot import ")?;
        f.write_str(self.file.as_deref().unwrap_or("the document"))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " at #{pointer}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_pointer() {
        let e = ImportError::new(ImportErrorKind::Reference, "no such node")
            .in_file(Some("spec/a.yml".into()))
            .at("/paths/~1x/get")
            .at_line(Some(3), Some(7));
        assert_eq!(
            e.to_string(),
            "cannot import spec/a.yml:3:7 at #/paths/~1x/get: no such node"
        );
        assert_eq!(e.kind(), ImportErrorKind::Reference);
    }
}
