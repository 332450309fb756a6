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
    /// The document is over a size, nesting, node or expansion limit
    /// ([`limits`](crate::limits)).
    TooLarge,
}

/// An OpenAPI document could not be imported.
///
/// It names the file (absent for the in-memory root document), the JSON pointer
/// inside it and, when the parser knows them, the line and column.
#[derive(Debug)]
pub struct ImportError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ImportErrorKind,
    file: Option<String>,
    pointer: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ImportError {
    pub(super) fn new(kind: ImportErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            file: None,
            pointer: None,
            line: None,
            column: None,
            message: message.into(),
            source: None,
        }))
    }

    pub(super) fn in_file(mut self, file: Option<String>) -> Self {
        self.0.file = file;
        self
    }

    pub(super) fn at(mut self, pointer: impl Into<String>) -> Self {
        self.0.pointer = Some(pointer.into());
        self
    }

    pub(super) fn at_line(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.0.line = line;
        self.0.column = column;
        self
    }

    pub(super) fn caused_by(mut self, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        self.0.source = Some(source);
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ImportErrorKind {
        self.0.kind
    }

    /// The file (path or URL) holding the problem; `None` for the in-memory root document.
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }

    /// The JSON pointer of the offending node inside [`file`](Self::file), when known.
    pub fn pointer(&self) -> Option<&str> {
        self.0.pointer.as_deref()
    }

    /// The 1-based line of the problem, when the parser knows it.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }

    /// The 1-based column of the problem, when the parser knows it.
    pub fn column(&self) -> Option<usize> {
        self.0.column
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        f.write_str("cannot import ")?;
        f.write_str(e.file.as_deref().unwrap_or("the document"))?;
        if let Some(line) = e.line {
            write!(f, ":{line}")?;
            if let Some(column) = e.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(pointer) = &e.pointer {
            write!(f, " at #{pointer}")?;
        }
        write!(f, ": {}", e.message)
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
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
