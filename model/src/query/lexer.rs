//! Tokenizer for the `filter` language.
//!
//! Kept separate from the parser so that the parser only deals with whole
//! tokens and every token carries its position for error messages.
//! Positions are 1-based character (not byte) offsets, because that is what a
//! person counting along their query string expects.

use super::QueryError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    LParen,
    RParen,
    Comma,
    /// A field name, keyword or function name: `[A-Za-z_][A-Za-z0-9_]*`.
    /// Whether it is a keyword is decided by the parser.
    Ident(String),
    /// A single-quoted string with `''` already turned into `'`.
    Str(String),
    /// `-?[0-9]+(\.[0-9]+)?`, kept as text so that money literals are never
    /// rounded through a binary float; the parser converts it per field kind.
    Number(String),
    /// End of input; always the last token.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// 1-based character position of the token's first character.
    pub pos: usize,
}

impl Token {
    /// How the token is quoted in error messages ("found ...").
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::LParen => "'('".to_owned(),
            TokenKind::RParen => "')'".to_owned(),
            TokenKind::Comma => "','".to_owned(),
            TokenKind::Ident(name) => format!("'{name}'"),
            TokenKind::Str(text) => format!("string '{}'", text.replace('\'', "''")),
            TokenKind::Number(text) => format!("number {text}"),
            TokenKind::End => "end of filter".to_owned(),
        }
    }
}

fn error(message: String) -> QueryError {
    QueryError::new("filter", message)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `input` into tokens, ending with [`TokenKind::End`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = match c {
            '(' => {
                i += 1;
                TokenKind::LParen
            }
            ')' => {
                i += 1;
                TokenKind::RParen
            }
            ',' => {
                i += 1;
                TokenKind::Comma
            }
            '\'' => {
                let (text, next) = lex_string(&chars, i)?;
                i = next;
                TokenKind::Str(text)
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let (text, next) = lex_number(&chars, i)?;
                i = next;
                TokenKind::Number(text)
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                TokenKind::Ident(chars[start..i].iter().collect())
            }
            other => {
                return Err(error(format!(
                    "unexpected character {other:?} at position {pos} in filter"
                )))
            }
        };
        tokens.push(Token { kind, pos });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        pos: chars.len() + 1,
    });
    Ok(tokens)
}

/// Lexes a string starting at the opening quote `chars[start]`; returns the
/// unescaped text and the index after the closing quote.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), QueryError> {
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(error(format!(
                    "unterminated string starting at position {} in filter",
                    start + 1
                )))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                text.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((text, i + 1)),
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

/// Lexes `-?digits(.digits)?` starting at `chars[start]`. A number running
/// straight into letters (`5lt`) or ending in a dot (`1.`) is an error rather
/// than two tokens, since it is almost certainly a typo.
fn lex_number(chars: &[char], start: usize) -> Result<(String, usize), QueryError> {
    let mut i = start;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        let fraction_start = i;
        digits(&mut i);
        if i == fraction_start {
            return Err(invalid_number(chars, start));
        }
    }
    if chars.get(i).is_some_and(|&c| is_ident_char(c) || c == '.') {
        return Err(invalid_number(chars, start));
    }
    Ok((chars[start..i].iter().collect(), i))
}

fn invalid_number(chars: &[char], start: usize) -> QueryError {
    let end = chars[start..]
        .iter()
        .position(|&c| !(is_ident_char(c) || c == '.' || c == '-'))
        .map_or(chars.len(), |n| start + n);
    let text: String = chars[start..end].iter().collect();
    error(format!(
        "invalid number '{text}' at position {} in filter",
        start + 1
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn ident(s: &str) -> TokenKind {
        TokenKind::Ident(s.to_owned())
    }

    fn err(input: &str) -> String {
        tokenize(input).unwrap_err().message
    }

    #[test]
    fn tokens_and_positions() {
        let tokens = tokenize("(a eq 'x'),-3").unwrap();
        let got: Vec<(TokenKind, usize)> = tokens.into_iter().map(|t| (t.kind, t.pos)).collect();
        assert_eq!(
            got,
            vec![
                (TokenKind::LParen, 1),
                (ident("a"), 2),
                (ident("eq"), 4),
                (TokenKind::Str("x".into()), 7),
                (TokenKind::RParen, 10),
                (TokenKind::Comma, 11),
                (TokenKind::Number("-3".into()), 12),
                (TokenKind::End, 14),
            ]
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let tokens = tokenize("'é' x").unwrap();
        assert_eq!(tokens[1].pos, 5);
    }

    #[test]
    fn strings_unescape_doubled_quotes() {
        assert_eq!(
            kinds("'it''s' '' ''''"),
            vec![
                TokenKind::Str("it's".into()),
                TokenKind::Str(String::new()),
                TokenKind::Str("'".into()),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn strings_keep_everything_else_verbatim() {
        assert_eq!(
            kinds(r"'a\b%_ (,)'"),
            vec![TokenKind::Str(r"a\b%_ (,)".into()), TokenKind::End]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 0.05 -3 12.50"),
            vec![
                TokenKind::Number("0".into()),
                TokenKind::Number("0.05".into()),
                TokenKind::Number("-3".into()),
                TokenKind::Number("12.50".into()),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn identifiers_with_digits_and_underscores() {
        assert_eq!(
            kinds("interval_1 _x"),
            vec![ident("interval_1"), ident("_x"), TokenKind::End]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("a eq 'abc"),
            "unterminated string starting at position 6 in filter"
        );
        assert_eq!(
            err("a eq 'it''"),
            "unterminated string starting at position 6 in filter"
        );
        assert_eq!(
            err("a % b"),
            "unexpected character '%' at position 3 in filter"
        );
        assert_eq!(
            err("a eq - 3"),
            "unexpected character '-' at position 6 in filter"
        );
        assert_eq!(
            err("a eq .5"),
            "unexpected character '.' at position 6 in filter"
        );
        assert_eq!(
            err("a eq 1."),
            "invalid number '1.' at position 6 in filter"
        );
        assert_eq!(err("5lt a"), "invalid number '5lt' at position 1 in filter");
        assert_eq!(
            err("a eq 1.2.3"),
            "invalid number '1.2.3' at position 6 in filter"
        );
        assert_eq!(
            err("a eq ä"),
            "unexpected character 'ä' at position 6 in filter"
        );
    }
}
