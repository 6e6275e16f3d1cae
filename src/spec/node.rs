//! A YAML tree where every node knows its line and column, built from `yaml-rust2`'s marked events.
//! It exists so that unknown keys, wrong types and bad values are reported at their exact position;
//! it only builds the tree and never interprets what the keys mean.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML node with its 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

/// The shape of a node. Scalars keep their text and whether they were quoted (a quoted `"1"` is a
/// string, a plain `1` may be a number).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Scalar { text: String, quoted: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What this node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing (null)".into(),
            Value::Scalar { text, quoted } => {
                if !quoted && text.parse::<i64>().is_ok() {
                    format!("the number {text}")
                } else if !quoted && matches!(text.as_str(), "true" | "false") {
                    format!("the boolean {text}")
                } else {
                    format!("the string {text:?}")
                }
            }
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    /// The scalar text, if this node is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// A YAML syntax error with its 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses one YAML document into a marked tree. An empty document yields a `Null` node at 1:1.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        return Err(SyntaxError {
            message: e.info().to_string(),
            line: m.line().max(1),
            column: m.col() + 1,
        });
    }
    if let Some((line, column)) = builder.too_big {
        return Err(SyntaxError {
            message: format!(
                "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing the file"
            ),
            line,
            column,
        });
    }
    if let Some((line, column)) = builder.second_document {
        return Err(SyntaxError {
            message: "a spec file holds exactly one YAML document; found a second `---`".into(),
            line,
            column,
        });
    }
    Ok(builder.root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        column: 1,
    }))
}

#[derive(Default)]
struct Builder {
    /// Open containers: the node under construction and, for maps, a pending key.
    stack: Vec<(Node, Option<Node>)>,
    anchors: HashMap<usize, Node>,
    /// Anchor ids of the open containers (0 = none), parallel to `stack`.
    open_anchors: Vec<usize>,
    root: Option<Node>,
    documents: usize,
    second_document: Option<(usize, usize)>,
    /// Nodes copied by aliases so far, and where the cap was passed.
    expanded: usize,
    too_big: Option<(usize, usize)>,
}

/// Aliases may copy at most this many nodes in total (a "billion laughs" file stops here).
const MAX_ALIAS_NODES: usize = 10_000;

fn size(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(size).sum(),
        Value::Map(entries) => entries.iter().map(|(k, v)| size(k) + size(v)).sum(),
        _ => 0,
    }
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((parent, pending)) => match &mut parent.value {
                Value::Seq(items) => items.push(node),
                Value::Map(entries) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                _ => {}
            },
        }
    }
}

fn pos(mark: Marker) -> (usize, usize) {
    (mark.line().max(1), mark.col() + 1)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let (line, column) = pos(mark);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 && self.second_document.is_none() {
                    self.second_document = Some((line, column));
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let value =
                    if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                        Value::Null
                    } else {
                        Value::Scalar { text, quoted }
                    };
                let node = Node {
                    value,
                    line,
                    column,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                if self.documents <= 1 {
                    self.push_value(node);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let value = if matches!(ev, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                self.stack.push((
                    Node {
                        value,
                        line,
                        column,
                    },
                    None,
                ));
                self.open_anchors.push(anchor);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let (Some((mut node, _)), Some(anchor)) =
                    (self.stack.pop(), self.open_anchors.pop())
                {
                    // A block mapping's start mark lies after its parent key; its first key is
                    // where a person looks.
                    if let Value::Map(entries) = &node.value {
                        if let Some((k, _)) = entries.first() {
                            (node.line, node.column) = (k.line, k.column);
                        }
                    }
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    if self.documents <= 1 {
                        self.push_value(node);
                    }
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    value: Value::Null,
                    line,
                    column,
                });
                self.expanded += size(&node);
                if self.expanded > MAX_ALIAS_NODES {
                    if self.too_big.is_none() {
                        self.too_big = Some((line, column));
                    }
                    return;
                }
                let node = Node {
                    line,
                    column,
                    ..node
                };
                if self.documents <= 1 {
                    self.push_value(node);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_point_at_keys_and_values() {
        let n = parse("tier: install\ntests:\n  - name: a\n    converged: {}\n").unwrap();
        let Value::Map(entries) = &n.value else {
            panic!("not a map: {n:?}")
        };
        assert_eq!((entries[0].0.line, entries[0].0.column), (1, 1));
        assert_eq!((entries[0].1.line, entries[0].1.column), (1, 7));
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        let Value::Map(test) = &items[0].value else {
            panic!("not a map")
        };
        assert_eq!((test[1].0.line, test[1].0.column), (4, 5));
        assert_eq!(
            (items[0].line, items[0].column),
            (3, 5),
            "a mapping sits at its first key"
        );
    }

    #[test]
    fn syntax_error_has_a_position() {
        let e = parse("tier: install\ntests: [a, b\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }

    #[test]
    fn quoted_scalars_are_remembered_and_null_is_recognised() {
        let n = parse("a: \"1\"\nb: 1\nc:\nd: ~\n").unwrap();
        let Value::Map(e) = n.value else { panic!() };
        assert!(matches!(&e[0].1.value, Value::Scalar { quoted: true, .. }));
        assert!(matches!(&e[1].1.value, Value::Scalar { quoted: false, .. }));
        assert!(e[2].1.is_null() && e[3].1.is_null());
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let n = parse("a: &x {k: v}\nb: *x\n").unwrap();
        let Value::Map(e) = n.value else { panic!() };
        assert_eq!(e[0].1.value, e[1].1.value);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("aliases expand"), "{e:?}");
    }

    #[test]
    fn a_second_document_is_an_error() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
