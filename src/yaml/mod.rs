//! YAML text → a tree of [`Node`]s that remember their line and column, so that every error about a
//! pipeline or training file can point at `file:line:column`. Converts to `serde_json::Value` for
//! typed deserialisation ([`typed`], which finds the bad value's path even through
//! `#[serde(flatten)]`); a tagged scalar `!tag value` becomes `{"tag": value}` (serde's external
//! enum form). Anchors and aliases are resolved; comments and formatting are dropped. Typed
//! values' range checks ([`bounds`]) and "did you mean" for unknown fields ([`nearest`],
//! [`FieldError::suggest`]) live here too. A leaf: imports nothing from the crate.

pub mod bounds;
mod suggest;
mod typed;

pub use suggest::nearest;
pub use typed::{typed, FieldError};

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the text (1-based line and column), and which of several texts it is in (0
/// unless the reader numbers its files: [`parse_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
    /// The text's number, for readers of several files (a pipeline and the files it includes).
    pub file: usize,
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

/// A YAML value whose children are [`Node`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar already typed (null, bool, number or string).
    Scalar(serde_json::Value),
    /// A scalar with a `!tag`.
    Tagged(String, Box<Node>),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in the file's order; each key's position is kept.
    Map(Vec<(String, Pos, Node)>),
}

impl Node {
    /// The value as JSON (positions dropped).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Scalar(v) => v.clone(),
            Value::Tagged(t, n) => serde_json::json!({ t.clone(): n.to_json() }),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, _, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    /// Rewrites every position in the tree (the node's, its keys', its children's) with `f`.
    pub fn map_pos(&mut self, f: &dyn Fn(Pos) -> Pos) {
        self.pos = f(self.pos);
        match &mut self.value {
            Value::Scalar(_) => {}
            Value::Tagged(_, inner) => inner.map_pos(f),
            Value::Seq(items) => items.iter_mut().for_each(|n| n.map_pos(f)),
            Value::Map(entries) => {
                for (_, kpos, v) in entries {
                    *kpos = f(*kpos);
                    v.map_pos(f);
                }
            }
        }
    }

    /// The entries of a mapping, if this is one.
    pub fn as_map(&self) -> Option<&[(String, Pos, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The position of the value at `path` below this node (keys and sequence indices), the
    /// deepest existing prefix's position when the path does not exist. For a mapping entry the
    /// key's position is returned.
    pub fn locate(&self, path: &[String]) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for step in path {
            match &node.value {
                Value::Map(m) => match m.iter().find(|(k, _, _)| k == step) {
                    Some((_, kpos, v)) => {
                        pos = *kpos;
                        node = v;
                    }
                    None => return pos,
                },
                Value::Seq(items) => match step.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(v) => {
                        pos = v.pos;
                        node = v;
                    }
                    None => return pos,
                },
                Value::Tagged(_, inner) => {
                    node = inner;
                }
                Value::Scalar(_) => return pos,
            }
        }
        pos
    }
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub msg: String,
}

enum Frame {
    Seq(Pos, usize, Vec<Node>),
    Map(Pos, usize, Vec<(String, Pos, Node)>, Option<(String, Pos)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<SyntaxError>,
}

fn pos(m: &Marker) -> Pos {
    // yaml-rust2 markers: 1-based lines, 0-based columns.
    Pos {
        line: m.line(),
        col: m.col() + 1,
        file: 0,
    }
}

fn typed_scalar(s: &str, style: TScalarStyle) -> serde_json::Value {
    use serde_json::Value as J;
    if style != TScalarStyle::Plain {
        return J::String(s.to_string());
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => J::Null,
        "true" | "True" | "TRUE" => J::Bool(true),
        "false" | "False" | "FALSE" => J::Bool(false),
        _ => {
            if let Ok(i) = s.parse::<i64>() {
                J::from(i)
            } else if let Some(f) = s
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && s.chars().any(|c| c.is_ascii_digit()))
            {
                J::from(f)
            } else {
                J::String(s.to_string())
            }
        }
    }
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, key)) => match key.take() {
                None => match &node.value {
                    Value::Scalar(v) => {
                        let k = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        *key = Some((k, node.pos));
                    }
                    _ => {
                        self.error.get_or_insert(SyntaxError {
                            pos: node.pos,
                            msg: "mapping keys must be plain strings".into(),
                        });
                    }
                },
                Some((k, kpos)) => {
                    if entries.iter().any(|(e, _, _)| *e == k) {
                        self.error.get_or_insert(SyntaxError {
                            pos: kpos,
                            msg: format!("duplicate key `{k}`"),
                        });
                    }
                    entries.push((k, kpos, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let p = pos(&mark);
        match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let scalar = Node {
                    pos: p,
                    value: Value::Scalar(typed_scalar(&s, style)),
                };
                let node = match tag {
                    Some(t) if t.handle == "!" && !t.suffix.is_empty() => Node {
                        pos: p,
                        value: Value::Tagged(t.suffix, Box::new(scalar)),
                    },
                    Some(t) if t.handle == "tag:yaml.org,2002:" && t.suffix == "str" => Node {
                        pos: p,
                        value: Value::Scalar(serde_json::Value::String(s)),
                    },
                    _ => scalar,
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(p, anchor, Vec::new())),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(p, anchor, Vec::new(), None))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(p0, anchor, items)) = self.stack.pop() {
                    self.push(
                        Node {
                            pos: p0,
                            value: Value::Seq(items),
                        },
                        anchor,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(p0, anchor, entries, _)) = self.stack.pop() {
                    self.push(
                        Node {
                            pos: p0,
                            value: Value::Map(entries),
                        },
                        anchor,
                    );
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(n) => self.push(Node { pos: p, ..n }, 0),
                None => {
                    self.error.get_or_insert(SyntaxError {
                        pos: p,
                        msg: "unknown alias".into(),
                    });
                }
            },
            _ => {}
        }
    }
}

/// Parses one YAML document (an empty text is an empty mapping).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| SyntaxError {
        pos: pos(e.marker()),
        msg: e.info().to_string(),
    })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.root.unwrap_or(Node {
        pos: Pos {
            line: 1,
            col: 1,
            file: 0,
        },
        value: Value::Map(Vec::new()),
    }))
}

/// Parses one YAML document like [`parse`], every position (the error's too) marked as in the
/// text numbered `file`.
pub fn parse_file(text: &str, file: usize) -> Result<Node, SyntaxError> {
    let mut node = parse(text).map_err(|e| SyntaxError {
        pos: Pos { file, ..e.pos },
        msg: e.msg,
    })?;
    node.map_pos(&|p| Pos { file, ..p });
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_keys_and_items() {
        let n = parse("a: 1\nb:\n  c: [x, 'y']\n  d: !explicit 4-0\n").unwrap();
        let at = |line, col| Pos { line, col, file: 0 };
        assert_eq!(n.locate(&["b".into(), "c".into()]), at(3, 3));
        assert_eq!(n.locate(&["b".into(), "c".into(), "1".into()]), at(3, 10));
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": 1, "b": {"c": ["x", "y"], "d": {"explicit": "4-0"}}})
        );
    }

    #[test]
    fn scalars_are_typed_like_yaml_and_quotes_keep_strings() {
        let n = parse("a: 0.5\nb: '1'\nc: true\nd: ~\ne: 1e-4\nf: l2t-ww\n").unwrap();
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": 0.5, "b": "1", "c": true, "d": null, "e": 1e-4, "f": "l2t-ww"})
        );
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_have_positions() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!((e.pos.line, e.msg.as_str()), (3, "duplicate key `a`"));
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
    }

    #[test]
    fn a_numbered_file_marks_every_position() {
        let n = parse_file("a:\n  b: [1, {c: 2}]\n", 3).unwrap();
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(n.locate(&path(&["a", "b", "1", "c"])).file, 3);
        assert_eq!(n.locate(&path(&["a", "b", "1", "c"])).line, 2);
        assert_eq!(parse_file("a: [1\n", 2).unwrap_err().pos.file, 2);
    }

    #[test]
    fn anchors_and_aliases_are_resolved() {
        let n = parse("x: &o {epochs: 3}\ny: *o\n").unwrap();
        assert_eq!(n.to_json()["y"], serde_json::json!({"epochs": 3}));
    }
}
