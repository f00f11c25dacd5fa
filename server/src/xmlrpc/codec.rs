//! The XML-RPC wire format: method calls in, responses and faults out.
//!
//! Values: `int`/`i4`/`i8`, `boolean`, `string` (and bare text), `double`,
//! `dateTime.iso8601`, `base64`, `struct`, `array`, `nil`. A `double` keeps
//! its text, so money read from it never goes through binary floating point.

use base64::Engine;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Deepest nesting of elements a call may have.
const MAX_DEPTH: usize = 64;

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum XValue {
    Int(i64),
    Bool(bool),
    Str(String),
    /// The number's text, as sent (checked to be a number).
    Double(String),
    /// The text of a `dateTime.iso8601`.
    DateTime(String),
    Base64(Vec<u8>),
    Struct(Vec<(String, XValue)>),
    Array(Vec<XValue>),
    Nil,
}

impl XValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            XValue::Int(_) => "int",
            XValue::Bool(_) => "boolean",
            XValue::Str(_) => "string",
            XValue::Double(_) => "double",
            XValue::DateTime(_) => "dateTime.iso8601",
            XValue::Base64(_) => "base64",
            XValue::Struct(_) => "struct",
            XValue::Array(_) => "array",
            XValue::Nil => "nil",
        }
    }

    /// A struct from `(name, value)` pairs.
    pub fn object<const N: usize>(members: [(&str, XValue); N]) -> XValue {
        XValue::Struct(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

/// A parsed `methodCall`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub name: String,
    pub params: Vec<XValue>,
}

/// Why a request body is not a method call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not well-formed XML.
    Malformed(String),
    /// Well-formed, but not an XML-RPC method call.
    Invalid(String),
}

/// An element with its children and text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    children: Vec<Node>,
    text: String,
}

fn malformed(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Malformed(format!("malformed XML: {e}"))
}

fn invalid(message: impl Into<String>) -> DecodeError {
    DecodeError::Invalid(message.into())
}

fn parse_tree(xml: &[u8]) -> Result<Node, DecodeError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(malformed)?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(invalid("the call is nested too deeply"));
                }
                if root.is_some() {
                    return Err(malformed("more than one root element"));
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                stack.push(Node {
                    name,
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let node = Node {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(malformed("more than one root element")),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| malformed("an unexpected end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(malformed)?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(c) => {
                let text = String::from_utf8(c.into_inner().into_owned())
                    .map_err(|_| malformed("CDATA that is not UTF-8"))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    root.ok_or_else(|| malformed("the body is empty"))
}

fn child<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    node.children.iter().find(|c| c.name == name)
}

fn value(node: &Node) -> Result<XValue, DecodeError> {
    if node.name != "value" {
        return Err(invalid(format!("<{}> where a <value> belongs", node.name)));
    }
    let typed = match node.children.as_slice() {
        [] => return Ok(XValue::Str(node.text.clone())),
        [one] => one,
        _ => return Err(invalid("a <value> holds one typed element")),
    };
    let text = typed.text.trim();
    Ok(match typed.name.as_str() {
        "int" | "i4" | "i8" => XValue::Int(text.parse().map_err(|_| {
            invalid(format!(
                "<{}>{text}</{}> is not an integer",
                typed.name, typed.name
            ))
        })?),
        "boolean" => XValue::Bool(match text {
            "1" | "true" => true,
            "0" | "false" => false,
            _ => return Err(invalid(format!("<boolean>{text}</boolean> is not 0 or 1"))),
        }),
        "string" => XValue::Str(typed.text.clone()),
        "double" => {
            if text.parse::<f64>().is_err() {
                return Err(invalid(format!("<double>{text}</double> is not a number")));
            }
            XValue::Double(text.to_string())
        }
        "dateTime.iso8601" => XValue::DateTime(text.to_string()),
        "base64" => XValue::Base64(
            base64::engine::general_purpose::STANDARD
                .decode(text.split_whitespace().collect::<String>())
                .map_err(|_| invalid("<base64> holds no base64"))?,
        ),
        "nil" => XValue::Nil,
        "struct" => {
            let mut members = Vec::with_capacity(typed.children.len());
            for member in &typed.children {
                if member.name != "member" {
                    return Err(invalid(format!("<{}> in a <struct>", member.name)));
                }
                let name =
                    child(member, "name").ok_or_else(|| invalid("a <member> without <name>"))?;
                let v =
                    child(member, "value").ok_or_else(|| invalid("a <member> without <value>"))?;
                members.push((name.text.clone(), value(v)?));
            }
            XValue::Struct(members)
        }
        "array" => {
            let data = child(typed, "data").ok_or_else(|| invalid("an <array> without <data>"))?;
            XValue::Array(data.children.iter().map(value).collect::<Result<_, _>>()?)
        }
        other => return Err(invalid(format!("<{other}> is not an XML-RPC type"))),
    })
}

/// Reads a `methodCall` document.
pub fn parse_call(xml: &[u8]) -> Result<MethodCall, DecodeError> {
    let root = parse_tree(xml)?;
    if root.name != "methodCall" {
        return Err(invalid(format!("<{}> is not a <methodCall>", root.name)));
    }
    let name = child(&root, "methodName")
        .ok_or_else(|| invalid("the call has no <methodName>"))?
        .text
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(invalid("the <methodName> is empty"));
    }
    let mut params = Vec::new();
    if let Some(list) = child(&root, "params") {
        for param in &list.children {
            if param.name != "param" {
                return Err(invalid(format!("<{}> in <params>", param.name)));
            }
            let v = child(param, "value").ok_or_else(|| invalid("a <param> without <value>"))?;
            params.push(value(v)?);
        }
    }
    Ok(MethodCall { name, params })
}

/// Text with `&`, `<`, `>` (and quotes) escaped.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn write_value(out: &mut String, v: &XValue) {
    out.push_str("<value>");
    match v {
        XValue::Int(i) if i32::try_from(*i).is_ok() => {
            out.push_str(&format!("<int>{i}</int>"));
        }
        XValue::Int(i) => out.push_str(&format!("<i8>{i}</i8>")),
        XValue::Bool(b) => out.push_str(if *b {
            "<boolean>1</boolean>"
        } else {
            "<boolean>0</boolean>"
        }),
        XValue::Str(s) => {
            out.push_str("<string>");
            escape(out, s);
            out.push_str("</string>");
        }
        XValue::Double(d) => {
            out.push_str("<double>");
            escape(out, d);
            out.push_str("</double>");
        }
        XValue::DateTime(d) => {
            out.push_str("<dateTime.iso8601>");
            escape(out, d);
            out.push_str("</dateTime.iso8601>");
        }
        XValue::Base64(bytes) => {
            out.push_str("<base64>");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            out.push_str("</base64>");
        }
        XValue::Struct(members) => {
            out.push_str("<struct>");
            for (name, v) in members {
                out.push_str("<member><name>");
                escape(out, name);
                out.push_str("</name>");
                write_value(out, v);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        XValue::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array>");
        }
        XValue::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A `methodResponse` carrying one value.
pub fn response(v: &XValue) -> String {
    let mut out = String::from(PROLOG);
    out.push_str("<methodResponse><params><param>");
    write_value(&mut out, v);
    out.push_str("</param></params></methodResponse>\n");
    out
}

/// A `methodResponse` carrying a fault.
pub fn fault(code: i64, message: &str) -> String {
    let mut out = String::from(PROLOG);
    out.push_str("<methodResponse><fault>");
    write_value(
        &mut out,
        &XValue::object([
            ("faultCode", XValue::Int(code)),
            ("faultString", XValue::Str(message.to_string())),
        ]),
    );
    out.push_str("</fault></methodResponse>\n");
    out
}

/// A call document (for clients and tests).
pub fn call(name: &str, params: &[XValue]) -> String {
    let mut out = String::from(PROLOG);
    out.push_str("<methodCall><methodName>");
    escape(&mut out, name);
    out.push_str("</methodName><params>");
    for p in params {
        out.push_str("<param>");
        write_value(&mut out, p);
        out.push_str("</param>");
    }
    out.push_str("</params></methodCall>\n");
    out
}

/// Reads a `methodResponse` (for clients and tests): the value, or the
/// fault's code and string.
pub fn parse_response(xml: &[u8]) -> Result<Result<XValue, (i64, String)>, DecodeError> {
    let root = parse_tree(xml)?;
    if root.name != "methodResponse" {
        return Err(invalid("not a <methodResponse>"));
    }
    if let Some(f) = child(&root, "fault") {
        let v = value(child(f, "value").ok_or_else(|| invalid("a fault without a value"))?)?;
        let XValue::Struct(members) = v else {
            return Err(invalid("a fault that is not a struct"));
        };
        let code = members.iter().find_map(|(k, v)| match (k.as_str(), v) {
            ("faultCode", XValue::Int(i)) => Some(*i),
            _ => None,
        });
        let text = members.iter().find_map(|(k, v)| match (k.as_str(), v) {
            ("faultString", XValue::Str(s)) => Some(s.clone()),
            _ => None,
        });
        return Ok(Err((code.unwrap_or(0), text.unwrap_or_default())));
    }
    let param = child(&root, "params")
        .and_then(|p| child(p, "param"))
        .and_then(|p| child(p, "value"))
        .ok_or_else(|| invalid("a response without a value"))?;
    Ok(Ok(value(param)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_and_writes_back() {
        let v = XValue::Struct(vec![
            ("i".into(), XValue::Int(-7)),
            ("big".into(), XValue::Int(1 << 40)),
            ("b".into(), XValue::Bool(true)),
            ("s".into(), XValue::Str("a < b & \"c\"".into())),
            ("d".into(), XValue::Double("0.1".into())),
            ("t".into(), XValue::DateTime("20170529T09:57:29".into())),
            ("raw".into(), XValue::Base64(vec![0, 1, 2, 255])),
            (
                "list".into(),
                XValue::Array(vec![XValue::Nil, XValue::Str(String::new())]),
            ),
        ]);
        let text = call("m.x", std::slice::from_ref(&v));
        assert!(text.contains("<i8>1099511627776</i8>"));
        assert!(text.contains("a &lt; b &amp; &quot;c&quot;"));
        let parsed = parse_call(text.as_bytes()).expect("parses");
        assert_eq!(parsed.name, "m.x");
        assert_eq!(parsed.params, vec![v]);
    }

    #[test]
    fn bare_text_is_a_string_and_i4_an_int() {
        let call = parse_call(
            b"<?xml version='1.0'?><methodCall><methodName>f</methodName><params>\
              <param><value>plain &amp; simple</value></param>\
              <param><value><i4> 42 </i4></value></param>\
              <param><value><string><![CDATA[<x>]]></string></value></param></params></methodCall>",
        )
        .expect("parses");
        assert_eq!(
            call.params,
            vec![
                XValue::Str("plain & simple".into()),
                XValue::Int(42),
                XValue::Str("<x>".into())
            ]
        );
    }

    #[test]
    fn bad_documents_are_told_apart() {
        for bad in [
            &b"<methodCall><methodName>f</methodName>"[..],
            b"<methodCall></wrong>",
            b"",
            b"not xml at all <<<",
        ] {
            assert!(
                matches!(parse_call(bad), Err(DecodeError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        for bad in [
            &b"<methodResponse/>"[..],
            b"<methodCall><params/></methodCall>",
            b"<methodCall><methodName>f</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
            b"<methodCall><methodName>f</methodName><params><param><value><float>1</float></value></param></params></methodCall>",
        ] {
            assert!(
                matches!(parse_call(bad), Err(DecodeError::Invalid(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!(
            "<methodCall><methodName>f</methodName><params><param>{}</param></params></methodCall>",
            "<value><array><data>".repeat(40)
        );
        assert!(parse_call(deep.as_bytes()).is_err());
    }

    #[test]
    fn faults_carry_code_and_string() {
        let text = fault(-32601, "no method 'x' & more");
        let parsed = parse_response(text.as_bytes()).expect("parses");
        assert_eq!(parsed, Err((-32601, "no method 'x' & more".into())));
        let ok = parse_response(response(&XValue::Int(3)).as_bytes()).expect("parses");
        assert_eq!(ok, Ok(XValue::Int(3)));
    }
}
