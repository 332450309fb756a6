//! serde's `rename_all` rules, as they apply to struct fields.
//!
//! Parameters must carry the name serde gives the field in the serialised input,
//! so these mirror serde's behaviour exactly, including its assumption that field
//! names are snake_case (`lowercase` and `snake_case` leave them as they are).

/// A `#[serde(rename_all = "...")]` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    /// The rule serde names `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// The serialised name of the field `field` under this rule.
    pub(crate) fn apply(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => pascal(field),
            Self::Camel => {
                let pascal = pascal(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

fn pascal(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut capitalize = true;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::RenameRule;

    #[test]
    fn renames_fields_like_serde() {
        let cases = [
            ("lowercase", "channel_id"),
            ("UPPERCASE", "CHANNEL_ID"),
            ("PascalCase", "ChannelId"),
            ("camelCase", "channelId"),
            ("snake_case", "channel_id"),
            ("SCREAMING_SNAKE_CASE", "CHANNEL_ID"),
            ("kebab-case", "channel-id"),
            ("SCREAMING-KEBAB-CASE", "CHANNEL-ID"),
        ];
        for (rule, expected) in cases {
            let rule = RenameRule::parse(rule).unwrap();
            assert_eq!(rule.apply("channel_id"), expected, "{rule:?}");
        }
        assert_eq!(RenameRule::Camel.apply("a"), "a");
        assert_eq!(RenameRule::Camel.apply("x_api_key"), "xApiKey");
        assert_eq!(RenameRule::parse("Camel"), None);
    }
}
