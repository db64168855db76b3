//! Value templates: the small part of Home Assistant's Jinja templates that
//! discovery configs use to pick a field out of a payload.
//!
//! Read: `{{ value }}` (the payload as text) and `{{ value_json<path> }}`,
//! where the path is any chain of `.key`, `['key']`, `["key"]` and `[0]`,
//! followed by any of the filters `lower`, `upper`, `trim`, `string`,
//! `int`, `int(<default>)`, `float` and `float(<default>)`. Whitespace
//! control (`{{-` and `-}}`) and spaces anywhere between the parts are
//! accepted. Everything else (conditions, comparisons, other filters, text
//! around the braces, `{% %}` blocks) is rejected when the config arrives,
//! so an entity that needs it is reported instead of guessed.

use std::cell::OnceCell;

use serde_json::Value;

use crate::ingest::sanitize::sanitize;

/// A parsed value template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    source: Source,
    path: Vec<Step>,
    filters: Vec<Filter>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// `value`: the payload text.
    Text,
    /// `value_json`: the payload parsed as JSON.
    Json,
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Filter {
    Lower,
    Upper,
    Trim,
    String,
    Int(Option<i64>),
    Float(Option<f64>),
}

/// Failure to evaluate a template on one payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderError {
    /// The template reads `value_json` and the payload is not JSON.
    InvalidJson(String),
    /// The path selects an object or an array, which has no single value.
    NoSingleValue,
    /// `int` or `float` met a value that is not a number and had no default.
    NotNumber(String),
}

/// The payload of one message, parsed as JSON at most once however many
/// entities read it.
pub struct Payload<'a> {
    text: &'a str,
    json: OnceCell<Result<Value, String>>,
}

impl<'a> Payload<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            json: OnceCell::new(),
        }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    fn json(&self) -> &Result<Value, String> {
        self.json.get_or_init(|| {
            serde_json::from_str::<Value>(self.text).map_err(|error| error.to_string())
        })
    }
}

/// An intermediate value while filters run, as Jinja passes Python values
/// from one filter to the next.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
}

impl Scalar {
    fn from_json(value: &Value) -> Result<Self, RenderError> {
        Ok(match value {
            Value::String(text) => Self::Text(text.clone()),
            Value::Bool(flag) => Self::Bool(*flag),
            Value::Null => Self::None,
            Value::Number(number) => match number.as_i64() {
                Some(integer) => Self::Int(integer),
                None => Self::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Array(_) | Value::Object(_) => return Err(RenderError::NoSingleValue),
        })
    }

    /// Renders the value as Python's `str()` does, which is what Home
    /// Assistant compares with `payload_on` and the other payloads.
    fn render(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Int(integer) => integer.to_string(),
            Self::Float(float) => python_float(*float),
            Self::Bool(true) => "True".into(),
            Self::Bool(false) => "False".into(),
            Self::None => "None".into(),
        }
    }

    fn to_int(&self) -> Option<i64> {
        match self {
            Self::Int(integer) => Some(*integer),
            Self::Float(float) => float_to_int(*float),
            Self::Bool(flag) => Some(i64::from(*flag)),
            Self::Text(text) => {
                let text = text.trim();
                text.parse::<i64>()
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().and_then(float_to_int))
            }
            Self::None => None,
        }
    }

    fn to_float(&self) -> Option<f64> {
        match self {
            Self::Int(integer) => Some(*integer as f64),
            Self::Float(float) => Some(*float),
            Self::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
            Self::Text(text) => text.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            Self::None => None,
        }
    }
}

fn float_to_int(float: f64) -> Option<i64> {
    (float.is_finite() && float.abs() < 9.0e18).then(|| float.trunc() as i64)
}

/// Python prints whole floats with a trailing `.0`.
fn python_float(float: f64) -> String {
    if float.is_finite() && float.fract() == 0.0 && float.abs() < 1e16 {
        format!("{float:.1}")
    } else {
        float.to_string()
    }
}

impl Template {
    /// Parses `text`, or returns why it is not one of the supported forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse(text).ok_or_else(|| unsupported(text))
    }

    /// Returns the template Home Assistant uses when a config gives none:
    /// the payload as it is.
    pub fn payload() -> Self {
        Self {
            source: Source::Text,
            path: Vec::new(),
            filters: Vec::new(),
        }
    }

    /// Evaluates the template on `payload`. `Ok(None)` when the path names a
    /// field the payload does not have: Jinja renders that as an empty
    /// string, which matches no payload, so the entity keeps its state.
    pub fn render(&self, payload: &Payload<'_>) -> Result<Option<String>, RenderError> {
        let mut scalar = match self.source {
            Source::Text => Scalar::Text(payload.text().to_owned()),
            Source::Json => {
                let root = payload
                    .json()
                    .as_ref()
                    .map_err(|error| RenderError::InvalidJson(error.clone()))?;
                let Some(value) = select(root, &self.path) else {
                    return Ok(None);
                };
                Scalar::from_json(value)?
            }
        };
        for filter in &self.filters {
            scalar = apply(filter, scalar)?;
        }
        Ok(Some(scalar.render()))
    }
}

fn select<'v>(root: &'v Value, path: &[Step]) -> Option<&'v Value> {
    let mut value = root;
    for step in path {
        value = match step {
            Step::Key(key) => value.as_object()?.get(key)?,
            Step::Index(index) => value.as_array()?.get(*index)?,
        };
    }
    Some(value)
}

fn apply(filter: &Filter, scalar: Scalar) -> Result<Scalar, RenderError> {
    Ok(match filter {
        Filter::Lower => Scalar::Text(scalar.render().to_lowercase()),
        Filter::Upper => Scalar::Text(scalar.render().to_uppercase()),
        Filter::Trim => Scalar::Text(scalar.render().trim().to_owned()),
        Filter::String => Scalar::Text(scalar.render()),
        Filter::Int(default) => match scalar.to_int().or(*default) {
            Some(integer) => Scalar::Int(integer),
            None => return Err(RenderError::NotNumber(sanitize(&scalar.render()))),
        },
        Filter::Float(default) => match scalar.to_float().or(*default) {
            Some(float) => Scalar::Float(float),
            None => return Err(RenderError::NotNumber(sanitize(&scalar.render()))),
        },
    })
}

/// Builds the reason given for a template outside the supported forms. It
/// quotes the template so the installer can find the entity's config.
fn unsupported(text: &str) -> String {
    format!(
        "value template \"{}\" is not supported: only {{{{ value }}}} and {{{{ value_json.<path> }}}} \
         with the filters lower, upper, trim, string, int and float are read",
        sanitize(text)
    )
}

fn parse(text: &str) -> Option<Template> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if ["{{", "}}", "{%", "%}", "{#", "#}"]
        .iter()
        .any(|marker| inner.contains(marker))
    {
        return None;
    }
    let mut cursor = Cursor::new(inner);

    cursor.skip_spaces();
    let source = match cursor.identifier()? {
        "value" => Source::Text,
        "value_json" => Source::Json,
        _ => return None,
    };
    let mut path = Vec::new();
    loop {
        cursor.skip_spaces();
        match cursor.peek() {
            Some('.') if source == Source::Json => {
                cursor.bump();
                cursor.skip_spaces();
                path.push(Step::Key(cursor.identifier()?.to_owned()));
            }
            Some('[') if source == Source::Json => {
                cursor.bump();
                cursor.skip_spaces();
                let step = match cursor.peek()? {
                    '\'' | '"' => Step::Key(cursor.quoted()?),
                    _ => Step::Index(cursor.integer()?.try_into().ok()?),
                };
                cursor.skip_spaces();
                cursor.expect(']')?;
                path.push(step);
            }
            _ => break,
        }
    }

    let mut filters = Vec::new();
    loop {
        cursor.skip_spaces();
        match cursor.peek() {
            None => break,
            Some('|') => {
                cursor.bump();
                cursor.skip_spaces();
                filters.push(filter(&mut cursor)?);
            }
            Some(_) => return None,
        }
    }
    Some(Template {
        source,
        path,
        filters,
    })
}

fn filter(cursor: &mut Cursor<'_>) -> Option<Filter> {
    let name = cursor.identifier()?;
    cursor.skip_spaces();
    let argument = if cursor.peek() == Some('(') {
        cursor.bump();
        cursor.skip_spaces();
        let argument = if cursor.peek() == Some(')') {
            None
        } else {
            Some(cursor.number()?)
        };
        cursor.skip_spaces();
        cursor.expect(')')?;
        argument
    } else {
        None
    };
    match (name, argument) {
        ("lower", None) => Some(Filter::Lower),
        ("upper", None) => Some(Filter::Upper),
        ("trim", None) => Some(Filter::Trim),
        ("string", None) => Some(Filter::String),
        ("int", None) => Some(Filter::Int(None)),
        ("int", Some(default)) => float_to_int(default).map(|d| Filter::Int(Some(d))),
        ("float", default) => Some(Filter::Float(default)),
        _ => None,
    }
}

/// A position in the template's text.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self { rest: text }
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.rest = &self.rest[c.len_utf8()..];
        }
    }

    fn expect(&mut self, wanted: char) -> Option<()> {
        (self.peek()? == wanted).then(|| self.bump())
    }

    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// Takes a Python identifier.
    fn identifier(&mut self) -> Option<&'a str> {
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(name)
    }

    /// Takes a string literal in single or double quotes, without escapes.
    fn quoted(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.bump();
        let end = self.rest.find(quote)?;
        let (text, rest) = self.rest.split_at(end);
        if text.contains('\\') {
            return None;
        }
        self.rest = &rest[quote.len_utf8()..];
        Some(text.to_owned())
    }

    fn integer(&mut self) -> Option<i64> {
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at(end);
        let value = digits.parse().ok()?;
        self.rest = rest;
        Some(value)
    }

    fn number(&mut self) -> Option<f64> {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at(end);
        let value = digits.parse::<f64>().ok().filter(|f| f.is_finite())?;
        self.rest = rest;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, payload: &str) -> Result<Option<String>, RenderError> {
        Template::parse(template)
            .unwrap_or_else(|reason| panic!("{template}: {reason}"))
            .render(&Payload::new(payload))
    }

    fn text(value: &str) -> Result<Option<String>, RenderError> {
        Ok(Some(value.to_owned()))
    }

    #[test]
    fn paths_and_spacing() {
        let payload = r#"{"contact": false, "state": "ON", "a": {"b": 7}, "list": [1, 2.5]}"#;
        assert_eq!(render("{{ value_json.contact }}", payload), text("False"));
        assert_eq!(render("{{value_json.contact}}", payload), text("False"));
        assert_eq!(render("{{ value_json['state'] }}", payload), text("ON"));
        assert_eq!(render(r#"{{ value_json["state"] }}"#, payload), text("ON"));
        assert_eq!(render("{{ value_json.a.b }}", payload), text("7"));
        assert_eq!(render("{{ value_json . a [ 'b' ] }}", payload), text("7"));
        assert_eq!(render("{{ value_json.list[1] }}", payload), text("2.5"));
        assert_eq!(render("{{- value_json.state -}}", payload), text("ON"));
        assert_eq!(render("  {{ value }}  ", "raw text"), text("raw text"));
    }

    #[test]
    fn python_rendering() {
        let payload = r#"{"t": true, "n": null, "f": 1.0, "i": -3}"#;
        assert_eq!(render("{{ value_json.t }}", payload), text("True"));
        assert_eq!(render("{{ value_json.n }}", payload), text("None"));
        assert_eq!(render("{{ value_json.f }}", payload), text("1.0"));
        assert_eq!(render("{{ value_json.i }}", payload), text("-3"));
    }

    #[test]
    fn filters() {
        let payload = r#"{"s": " Open ", "t": true, "b": "87.6", "x": "abc"}"#;
        assert_eq!(render("{{ value_json.t | lower }}", payload), text("true"));
        assert_eq!(
            render("{{ value_json.s|trim|upper }}", payload),
            text("OPEN")
        );
        assert_eq!(render("{{ value_json.b | int }}", payload), text("87"));
        assert_eq!(render("{{ value_json.b | float }}", payload), text("87.6"));
        assert_eq!(render("{{ value_json.x | int(0) }}", payload), text("0"));
        assert_eq!(
            render("{{ value_json.x | int }}", payload),
            Err(RenderError::NotNumber("abc".into()))
        );
        assert_eq!(render("{{ value | lower }}", "ON"), text("on"));
    }

    #[test]
    fn missing_field_and_bad_json() {
        assert_eq!(render("{{ value_json.absent }}", r#"{"a": 1}"#), Ok(None));
        assert_eq!(render("{{ value_json.a.b }}", r#"{"a": 1}"#), Ok(None));
        assert!(matches!(
            render("{{ value_json.a }}", "not json"),
            Err(RenderError::InvalidJson(_))
        ));
        assert_eq!(
            render("{{ value_json.a }}", r#"{"a": {"b": 1}}"#),
            Err(RenderError::NoSingleValue)
        );
    }

    #[test]
    fn other_templates_rejected() {
        for template in [
            "{{ 'ON' if value_json.contact else 'OFF' }}",
            "{{ value_json.state == 'ON' }}",
            "{% if value == '1' %}ON{% endif %}",
            "{{ value_json.state | default('OFF') }}",
            "{{ value_json.a }}%",
            "{{ states('sensor.x') }}",
            "{{ value.upper() }}",
            "{{ value_json['a\\'b'] }}",
            "value_json.a",
            "",
        ] {
            let reason = Template::parse(template).expect_err(template);
            assert!(reason.contains("is not supported"), "{template}: {reason}");
            assert!(
                reason.contains(&sanitize(template)),
                "reason names the template: {reason}"
            );
        }
    }
}
