//! Documentation pages (HTML or Markdown) → structured text: headings, paragraphs,
//! list items, code blocks and tables, plus the links and spec links a crawler needs.
//!
//! The walk over the parsed tree is iterative with a depth and a node budget, so a
//! hostile page (a million nested `<div>`s, a huge flat page) costs bounded work;
//! what lies past a limit is dropped and [`Doc::truncated`] says so.

use scraper::{Html, Node};

/// Elements nested deeper than this are not read (their text is dropped).
const MAX_DEPTH: usize = 256;
/// At most this many tree nodes are visited per page.
const MAX_NODES: usize = 400_000;
/// Text of one block is cut at this many bytes.
const MAX_BLOCK_BYTES: usize = 64 * 1024;
/// Rows read from one table.
const MAX_TABLE_ROWS: usize = 2_000;

/// One unit of structured text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A heading, level 1–6.
    Heading {
        /// 1 for `<h1>`/`#`, up to 6.
        level: u8,
        /// Its text.
        text: String,
    },
    /// Running text (a paragraph, or inline content of a container such as a route badge).
    Paragraph(String),
    /// One list item.
    Item(String),
    /// A code block, line breaks kept.
    Code(String),
    /// A table: rows of cell texts, the header row first when there is one.
    Table(Vec<Vec<String>>),
}

/// A link found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The `href` as written.
    pub href: String,
    /// The link's text.
    pub text: String,
}

/// A page as structured text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    /// The `<title>` (HTML) or first heading.
    pub title: Option<String>,
    /// Blocks in document order.
    pub blocks: Vec<Block>,
    /// Every `<a href>` (or Markdown link).
    pub links: Vec<Link>,
    /// `<link rel="alternate" type="application/vnd.oai.openapi…">` targets.
    pub spec_links: Vec<String>,
    /// `<link rel="canonical">`, when given.
    pub canonical: Option<String>,
    /// Whether a depth or size limit cut the page short.
    pub truncated: bool,
}

/// Elements whose content is never text of the page.
fn skipped(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "svg" | "iframe" | "object" | "head"
    )
}

/// Elements whose text is navigation chrome: links are kept, text is not.
fn chrome(name: &str) -> bool {
    matches!(name, "nav" | "header" | "footer" | "aside")
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Elements that end the running paragraph before and after them.
fn block_level(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "body"
            | "blockquote"
            | "dl"
            | "dt"
            | "dd"
            | "ul"
            | "ol"
            | "li"
            | "br"
            | "hr"
            | "form"
            | "figure"
            | "figcaption"
            | "details"
            | "summary"
    )
}

/// Parses an HTML page.
pub fn from_html(html: &str) -> Doc {
    // html5ever's tree builder scans the open-element stack per tag, so deep nesting
    // costs depth × tags: cut the input where it gets too deep or too tag-dense.
    let (html, cut_short) = bounded_html(html);
    let document = Html::parse_document(html);
    let mut w = Walker::default();
    w.walk(document.tree.root());
    w.flush();
    w.doc.truncated |= cut_short;
    if w.doc.title.is_none() {
        w.doc.title = first_heading(&w.doc.blocks);
    }
    w.doc
}

/// Tags at most, and open-tag depth at most, before the input is cut.
const MAX_TAGS: usize = 200_000;
const MAX_OPEN: usize = 512;

/// The prefix of `html` within [`MAX_TAGS`] tags and [`MAX_OPEN`] nesting, by a
/// cheap scan (void and self-closed elements do not nest).
fn bounded_html(html: &str) -> (&str, bool) {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut tags) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        let at = i + off;
        i = at + 1;
        let rest = &bytes[i..];
        if rest.first().is_some_and(u8::is_ascii_alphabetic) {
            tags += 1;
            let name_len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let name = std::str::from_utf8(&rest[..name_len])
                .unwrap_or("")
                .to_ascii_lowercase();
            let self_closed = rest
                .iter()
                .take(4096)
                .position(|b| *b == b'>')
                .is_some_and(|end| end > 0 && rest[end - 1] == b'/');
            if !VOID.contains(&name.as_str()) && !self_closed {
                depth += 1;
            }
        } else if rest.first() == Some(&b'/') {
            tags += 1;
            depth = depth.saturating_sub(1);
        }
        if depth > MAX_OPEN || tags > MAX_TAGS {
            return (&html[..at], true);
        }
    }
    (html, false)
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'<')
}

fn first_heading(blocks: &[Block]) -> Option<String> {
    blocks.iter().find_map(|b| match b {
        Block::Heading { text, .. } if !text.is_empty() => Some(text.clone()),
        _ => None,
    })
}

type NodeRef<'a> = ego_tree::NodeRef<'a, Node>;

#[derive(Default)]
struct Walker {
    doc: Doc,
    para: String,
    nodes: usize,
}

impl Walker {
    fn flush(&mut self) {
        let text = collapse(&self.para);
        self.para.clear();
        if let Some(rows) = text_table(&text) {
            self.doc.blocks.push(Block::Table(rows));
        } else if !text.is_empty() {
            self.doc.blocks.push(Block::Paragraph(text));
        }
    }

    fn budget(&mut self) -> bool {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.doc.truncated = true;
            return false;
        }
        true
    }

    /// Depth-first over the tree with an explicit stack; `Leave` marks the end of an
    /// element so block boundaries can flush.
    fn walk(&mut self, root: NodeRef<'_>) {
        enum Step<'a> {
            Enter(NodeRef<'a>, usize, bool),
            Leave(bool, bool),
        }
        let mut stack = vec![Step::Enter(root, 0, false)];
        while let Some(step) = stack.pop() {
            let (node, depth, in_chrome) = match step {
                Step::Leave(block, space) => {
                    if block {
                        self.flush();
                    } else if space {
                        self.para.push(' ');
                    }
                    continue;
                }
                Step::Enter(node, depth, in_chrome) => (node, depth, in_chrome),
            };
            if !self.budget() {
                break;
            }
            if depth > MAX_DEPTH {
                self.doc.truncated = true;
                continue;
            }
            match node.value() {
                Node::Text(t) => {
                    if !in_chrome && self.para.len() < MAX_BLOCK_BYTES {
                        self.para.push_str(t);
                    }
                    continue;
                }
                Node::Element(e) => {
                    let name = e.name();
                    if name == "title" && self.doc.title.is_none() {
                        let t = collapse(&text_of(node));
                        if !t.is_empty() {
                            self.doc.title = Some(t);
                        }
                    }
                    if name == "link" {
                        self.head_link(e);
                        continue;
                    }
                    if skipped(name) {
                        // <head> holds <title> and <link>s: read just those.
                        if name == "head" {
                            for child in node.children().rev() {
                                stack.push(Step::Enter(child, depth + 1, true));
                            }
                        }
                        continue;
                    }
                    if name == "a"
                        && let Some(href) = e.attr("href")
                    {
                        self.doc.links.push(Link {
                            href: href.to_owned(),
                            text: collapse(&text_of(node)),
                        });
                    }
                    let chrome_here = in_chrome || chrome(name);
                    if !chrome_here {
                        if let Some(level) = heading_level(name) {
                            self.flush();
                            let text = collapse(&text_of(node));
                            if !text.is_empty() {
                                self.doc.blocks.push(Block::Heading { level, text });
                            }
                            self.links_below(node);
                            continue;
                        }
                        if name == "pre" {
                            self.flush();
                            let text = cut(raw_text(node));
                            let text = text.trim_matches('\n').to_owned();
                            if !text.trim().is_empty() {
                                self.doc.blocks.push(Block::Code(text));
                            }
                            continue;
                        }
                        if name == "table" {
                            self.flush();
                            let rows = table(node);
                            if !rows.is_empty() {
                                self.doc.blocks.push(Block::Table(rows));
                            }
                            self.links_below(node);
                            continue;
                        }
                        if name == "li" && !has_block_child(node) {
                            self.flush();
                            let text = collapse(&text_of(node));
                            if !text.is_empty() {
                                self.doc.blocks.push(Block::Item(text));
                            }
                            self.links_below(node);
                            continue;
                        }
                        if name == "code" {
                            // Inline code keeps its boundary, so "GET" and a path in
                            // two elements stay two words.
                            self.para.push(' ');
                        }
                    }
                    let block = block_level(name) || chrome(name);
                    if block {
                        self.flush();
                    }
                    stack.push(Step::Leave(block, name == "code"));
                    for child in node.children().rev() {
                        stack.push(Step::Enter(child, depth + 1, chrome_here));
                    }
                }
                _ => {
                    for child in node.children().rev() {
                        stack.push(Step::Enter(child, depth + 1, in_chrome));
                    }
                }
            }
        }
    }

    /// Keeps walking below an element whose text was taken whole, for its links only.
    fn links_below(&mut self, node: NodeRef<'_>) {
        for d in node.descendants().take(MAX_NODES) {
            if let Node::Element(e) = d.value()
                && e.name() == "a"
                && let Some(href) = e.attr("href")
            {
                self.doc.links.push(Link {
                    href: href.to_owned(),
                    text: collapse(&text_of(d)),
                });
            }
        }
    }

    fn head_link(&mut self, e: &scraper::node::Element) {
        let rel = e.attr("rel").unwrap_or("").to_ascii_lowercase();
        let Some(href) = e.attr("href") else { return };
        if rel.split_whitespace().any(|r| r == "canonical") {
            self.doc.canonical = Some(href.to_owned());
        }
        let kind = e.attr("type").unwrap_or("").to_ascii_lowercase();
        if rel.split_whitespace().any(|r| r == "alternate")
            && (kind.contains("openapi") || kind.contains("swagger"))
        {
            self.doc.spec_links.push(href.to_owned());
        }
    }
}

/// Whether a `<li>` holds blocks of its own (code, tables, nested lists).
fn has_block_child(node: NodeRef<'_>) -> bool {
    node.descendants().skip(1).take(2_000).any(|d| {
        matches!(d.value(), Node::Element(e) if matches!(e.name(), "pre" | "table" | "ul" | "ol" | "li"))
    })
}

/// All text below a node (scripts and styles excluded), bounded.
fn text_of(node: NodeRef<'_>) -> String {
    let mut out = String::new();
    let mut it = node.traverse();
    let mut skip_depth: Option<ego_tree::NodeId> = None;
    for _ in 0..MAX_NODES {
        let Some(edge) = it.next() else { break };
        match edge {
            ego_tree::iter::Edge::Open(n) => {
                if skip_depth.is_some() {
                    continue;
                }
                match n.value() {
                    Node::Element(e) if skipped(e.name()) => skip_depth = Some(n.id()),
                    Node::Element(e) if e.name() == "br" => out.push('\n'),
                    Node::Element(e) if matches!(e.name(), "td" | "th" | "code") => out.push(' '),
                    Node::Text(t) if out.len() < MAX_BLOCK_BYTES => out.push_str(t),
                    _ => {}
                }
            }
            ego_tree::iter::Edge::Close(n) => {
                if skip_depth == Some(n.id()) {
                    skip_depth = None;
                } else if skip_depth.is_none()
                    && matches!(n.value(), Node::Element(e) if matches!(e.name(), "p" | "div" | "li" | "tr"))
                {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// The text nodes below a node as they are (for `<pre>`), bounded.
fn raw_text(node: NodeRef<'_>) -> String {
    let mut out = String::new();
    for d in node.descendants().take(MAX_NODES) {
        match d.value() {
            Node::Text(t) if out.len() < MAX_BLOCK_BYTES => out.push_str(t),
            Node::Element(e) if e.name() == "br" => out.push('\n'),
            _ => {}
        }
    }
    out
}

/// The rows of a table (nested tables flattened into their cell's text).
fn table(node: NodeRef<'_>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for d in node.descendants().take(MAX_NODES) {
        if rows.len() >= MAX_TABLE_ROWS {
            break;
        }
        if let Node::Element(e) = d.value()
            && e.name() == "tr"
        {
            let cells: Vec<String> = d
                .children()
                .filter(
                    |c| matches!(c.value(), Node::Element(e) if matches!(e.name(), "td" | "th")),
                )
                .map(|c| collapse(&text_of(c)))
                .collect();
            if !cells.is_empty() {
                rows.push(cells);
            }
        }
    }
    rows
}

/// A Markdown pipe table that a site rendered as one paragraph of text
/// (`| a | b | | --- | --- | | 1 | 2 |`): its rows, when the separator row shows
/// the column count.
fn text_table(text: &str) -> Option<Vec<Vec<String>>> {
    if !text.starts_with('|') || !text.ends_with('|') {
        return None;
    }
    let parts: Vec<&str> = text.split('|').map(str::trim).collect();
    let is_sep = |p: &str| {
        let p = p.trim_matches(':');
        !p.is_empty() && p.bytes().all(|b| b == b'-')
    };
    let first_sep = parts.iter().position(|p| is_sep(p))?;
    // parts: "", h1..hn, "", s1..sn, "", r1..rn, "", …, "" — period n + 1.
    let n = first_sep.checked_sub(2)?;
    if n == 0 || parts.len() < 2 * (n + 1) {
        return None;
    }
    let mut rows = Vec::new();
    for (i, chunk) in parts[1..].chunks(n + 1).enumerate() {
        if chunk.len() < n {
            break;
        }
        let cells = &chunk[..n];
        if i == 1 {
            if !cells.iter().all(|c| is_sep(c)) {
                return None;
            }
            continue;
        }
        if chunk.len() == n + 1 && !chunk[n].is_empty() {
            return None;
        }
        // Markdown inline markup left in the text: drop backticks and emphasis.
        rows.push(cells.iter().map(|c| c.replace(['`', '*'], "")).collect());
        if rows.len() >= MAX_TABLE_ROWS {
            break;
        }
    }
    Some(rows)
}

/// Runs of whitespace → one space, trimmed, bounded.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_BLOCK_BYTES));
    for word in text.split_whitespace() {
        if out.len() >= MAX_BLOCK_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn cut(mut text: String) -> String {
    if text.len() > MAX_BLOCK_BYTES {
        let mut end = MAX_BLOCK_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Parses a Markdown page: ATX headings, fenced code, pipe tables, list items,
/// paragraphs and `[text](href)` links. MDX `<Route method="GET">/path</Route>`
/// becomes a paragraph `GET /path`, as a rendered site shows it.
pub fn from_markdown(md: &str) -> Doc {
    let mut doc = Doc::default();
    let mut para: Vec<&str> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    let mut table_rows: Vec<Vec<String>> = Vec::new();
    let link = regex_link();
    let route = regex_route();
    let flush_para = |para: &mut Vec<&str>, doc: &mut Doc| {
        if !para.is_empty() {
            let text = collapse(&para.join(" "));
            para.clear();
            if !text.is_empty() {
                doc.blocks.push(Block::Paragraph(text));
            }
        }
    };
    let flush_table = |rows: &mut Vec<Vec<String>>, doc: &mut Doc| {
        if !rows.is_empty() {
            doc.blocks.push(Block::Table(std::mem::take(rows)));
        }
    };
    let mut lines = 0usize;
    for line in md.lines() {
        lines += 1;
        if lines > MAX_NODES {
            doc.truncated = true;
            break;
        }
        if let Some(buf) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                let text = buf.join("\n");
                code = None;
                if !text.trim().is_empty() {
                    doc.blocks.push(Block::Code(cut(text)));
                }
            } else {
                buf.push(line);
            }
            continue;
        }
        for m in link.captures_iter(line) {
            doc.links.push(Link {
                href: m[2].to_owned(),
                text: m[1].to_owned(),
            });
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush_para(&mut para, &mut doc);
            flush_table(&mut table_rows, &mut doc);
            code = Some(Vec::new());
            continue;
        }
        if let Some(m) = route.captures(trimmed) {
            flush_para(&mut para, &mut doc);
            doc.blocks
                .push(Block::Paragraph(format!("{} {}", &m[1], m[2].trim())));
            continue;
        }
        if trimmed.starts_with('|') {
            flush_para(&mut para, &mut doc);
            let cells: Vec<String> = trimmed
                .trim_matches('|')
                .split('|')
                .map(|c| collapse(&strip_inline(c)))
                .collect();
            let separator = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
            if !separator && table_rows.len() < MAX_TABLE_ROWS {
                table_rows.push(cells);
            }
            continue;
        }
        flush_table(&mut table_rows, &mut doc);
        let hashes = trimmed.bytes().take_while(|b| *b == b'#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush_para(&mut para, &mut doc);
            let text = collapse(&strip_inline(trimmed[hashes..].trim_end_matches('#')));
            doc.blocks.push(Block::Heading {
                level: u8::try_from(hashes).unwrap_or(6),
                text,
            });
            continue;
        }
        if trimmed.is_empty() {
            flush_para(&mut para, &mut doc);
            continue;
        }
        let item = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
            .or_else(|| trimmed.strip_prefix("+ "));
        if let Some(item) = item {
            flush_para(&mut para, &mut doc);
            doc.blocks.push(Block::Item(collapse(&strip_inline(item))));
            continue;
        }
        para.push(trimmed);
    }
    if let Some(buf) = code {
        doc.blocks.push(Block::Code(cut(buf.join("\n"))));
    }
    flush_table(&mut table_rows, &mut doc);
    let text = collapse(&strip_inline(&para.join(" ")));
    if !text.is_empty() {
        doc.blocks.push(Block::Paragraph(text));
    }
    // Paragraphs keep inline markup until here; strip it once.
    for b in &mut doc.blocks {
        if let Block::Paragraph(t) = b {
            *t = collapse(&strip_inline(t));
        }
    }
    doc.title = first_heading(&doc.blocks);
    doc
}

/// Markdown inline markup → text: backticks, emphasis and link syntax dropped.
fn strip_inline(text: &str) -> String {
    let linked = regex_link().replace_all(text, "$1");
    linked.replace(['`', '*'], "")
}

fn regex_link() -> &'static regex::Regex {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\[([^\]]*)\]\(([^)\s]+)\)").unwrap_or_else(|_| unreachable!())
    });
    &RE
}

fn regex_route() -> &'static regex::Regex {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^<Route\s+method="(\w+)"\s*>(.*?)</Route>"#)
            .unwrap_or_else(|_| unreachable!())
    });
    &RE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blocks_keep_structure() {
        let doc = from_html(
            r#"<html><head><title>Users</title>
            <link rel="alternate" type="application/vnd.oai.openapi+json" href="/openapi.json">
            <link rel="canonical" href="https://docs.example.com/users"></head>
            <body><nav><a href="/other">Other</a> Menu text</nav>
            <h1>Get a user</h1><p>Returns <b>one</b> user.</p>
            <div class="route"><span class="method">GET</span><code>/users/{id}</code></div>
            <pre><code>curl https://api.example.com/users/1
  -H "Authorization: Bearer X"</code></pre>
            <table><tr><th>Name</th><th>Type</th></tr><tr><td>id</td><td>string</td></tr></table>
            <ul><li>limit: how many</li></ul></body></html>"#,
        );
        assert_eq!(doc.title.as_deref(), Some("Users"));
        assert_eq!(doc.spec_links, ["/openapi.json"]);
        assert_eq!(
            doc.canonical.as_deref(),
            Some("https://docs.example.com/users")
        );
        assert_eq!(doc.links[0].href, "/other");
        assert_eq!(
            doc.blocks,
            [
                Block::Heading {
                    level: 1,
                    text: "Get a user".into()
                },
                Block::Paragraph("Returns one user.".into()),
                Block::Paragraph("GET /users/{id}".into()),
                Block::Code(
                    "curl https://api.example.com/users/1\n  -H \"Authorization: Bearer X\"".into()
                ),
                Block::Table(vec![
                    vec!["Name".into(), "Type".into()],
                    vec!["id".into(), "string".into()]
                ]),
                Block::Item("limit: how many".into()),
            ]
        );
    }

    #[test]
    fn pipe_tables_rendered_as_text() {
        let doc = from_html(
            "<p>| Parameter | Type | | :--- | --- | | `id` | String | | n | Integer |</p>",
        );
        assert_eq!(
            doc.blocks,
            [Block::Table(vec![
                vec!["Parameter".into(), "Type".into()],
                vec!["id".into(), "String".into()],
                vec!["n".into(), "Integer".into()],
            ])]
        );
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let deep = "<div>".repeat(50_000) + "deep text" + &"</div>".repeat(50_000);
        let doc = from_html(&format!("<h1>Top</h1>{deep}"));
        assert!(doc.truncated, "a limit must have been hit");
        assert!(matches!(&doc.blocks[0], Block::Heading { text, .. } if text == "Top"));
    }

    #[test]
    fn markdown_blocks() {
        let doc = from_markdown(
            "---\n# Title\n\nSome `text` [here](a.md).\n\n```json\nGET /x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item\n<Route method=\"POST\">/y</Route>\n",
        );
        assert_eq!(doc.title.as_deref(), Some("Title"));
        assert_eq!(doc.links[0].href, "a.md");
        assert!(doc.blocks.contains(&Block::Code("GET /x".into())));
        assert!(
            doc.blocks
                .contains(&Block::Paragraph("Some text here.".into()))
        );
        assert!(doc.blocks.contains(&Block::Table(vec![
            vec!["a".into(), "b".into()],
            vec!["1".into(), "2".into()]
        ])));
        assert!(doc.blocks.contains(&Block::Item("item".into())));
        assert!(doc.blocks.contains(&Block::Paragraph("POST /y".into())));
    }
}
