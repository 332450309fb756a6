//! Path templates: `/users/{id}/posts`.

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    segments: Vec<Segment>,
}

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied as it is.
    Literal(String),
    /// A `{name}` placeholder, filled from the input field `name`.
    Param(String),
}

impl PathTemplate {
    /// Parses a template.
    ///
    /// # Errors
    /// A message saying what is wrong: an unclosed or stray brace, or an empty
    /// placeholder.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    segments.push(Segment::Literal(rest.to_owned()));
                    break;
                }
                Some(i) if rest.as_bytes()[i] == b'}' => {
                    return Err(format!(
                        "stray '}}' at byte {}",
                        template.len() - rest.len() + i
                    ));
                }
                Some(i) => {
                    if i > 0 {
                        segments.push(Segment::Literal(rest[..i].to_owned()));
                    }
                    let after = &rest[i + 1..];
                    let end = after.find('}').ok_or_else(|| {
                        format!("unclosed '{{' at byte {}", template.len() - rest.len() + i)
                    })?;
                    let name = &after[..end];
                    if name.is_empty() || name.contains('{') {
                        return Err(format!("bad placeholder '{{{name}}}'"));
                    }
                    segments.push(Segment::Param(name.to_owned()));
                    rest = &after[end + 1..];
                }
            }
        }
        Ok(Self { segments })
    }

    /// The placeholder names, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The pieces of the template.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_placeholders() {
        let t = PathTemplate::parse("/v1/{owner}/repos/{repo}.json").unwrap();
        assert_eq!(t.placeholders().collect::<Vec<_>>(), ["owner", "repo"]);
        assert_eq!(
            t.segments(),
            [
                Segment::Literal("/v1/".into()),
                Segment::Param("owner".into()),
                Segment::Literal("/repos/".into()),
                Segment::Param("repo".into()),
                Segment::Literal(".json".into()),
            ]
        );
    }

    #[test]
    fn reports_broken_braces() {
        assert_eq!(
            PathTemplate::parse("/a/{id").unwrap_err(),
            "unclosed '{' at byte 3"
        );
        assert_eq!(
            PathTemplate::parse("/a/id}").unwrap_err(),
            "stray '}' at byte 5"
        );
        assert_eq!(
            PathTemplate::parse("/a/{}").unwrap_err(),
            "bad placeholder '{}'"
        );
    }
}
