//! Every kind of fault in the text formats, with the line and column it is reported at: the
//! first byte of the token that is wrong, or where a required byte is missing.

use super::super::*;

const TEXT: Dialect = Dialect { format: Format::Text, utf8_names: false };
const TEXT_UTF8: Dialect = Dialect { format: Format::Text, utf8_names: true };
const OM: Dialect = Dialect { format: Format::OpenMetrics, utf8_names: true };

/// A body, the line and column of its fault, and the start of the message.
type Case = (&'static [u8], u64, u64, &'static str);

const TEXT_CASES: &[Case] = &[
    // The end of the body.
    (b"a 1\nb 2", 2, 4, "unexpected end of input stream (the last line has no newline)"),
    // HELP and TYPE lines.
    (b"# HELP a{ x\n", 1, 9, "invalid metric name in comment"),
    (b"# HELP a x\n# TYPE a{ gauge\n", 2, 9, "invalid metric name in comment"),
    (b"# HELP a x\n# HELP a y\n", 2, 8, "second HELP line for metric name \"a\""),
    (b"# HELP a x\\q\n", 1, 11, "invalid escape sequence '\\q' in HELP"),
    (b"# HELP a x\\\n", 1, 11, "HELP text ends with a lone backslash"),
    (b"# TYPE a gauge\n# TYPE a counter\n", 2, 8, "second TYPE line for metric name \"a\""),
    (b"a 1\n# TYPE a gauge\n", 2, 8, "second TYPE line for metric name \"a\", or TYPE reported after"),
    (b"# TYPE a gaug\n", 1, 10, "unknown metric type \"gaug\""),
    (b"# HELP \"\" x\n", 1, 8, "empty quoted metric name"),
    (b"# HELP \"a.b\" x\n", 1, 10, "invalid metric name \"a.b\""),
    // The metric name.
    (b"a 1\n1a 2\n", 2, 1, "invalid metric name"),
    (b"{a=\"b\"} 1\n", 1, 1, "invalid metric name: the sample has labels but no name"),
    (b"\"a.b\" 1\n", 1, 3, "invalid metric name \"a.b\""),
    (b"{\"a.b\"} 1\n", 1, 4, "invalid metric name \"a.b\""),
    (b"{\"a\\\".b\"} 1\n", 1, 3, "invalid metric name \"a\\\".b\""),
    (b"{\"a\",\"b\"} 1\n", 1, 6, "multiple metric names in braces"),
    // Labels.
    (b"a{\n", 1, 3, "unexpected end of input stream inside labels"),
    (b"a{1=\"b\"} 1\n", 1, 3, "invalid label name at"),
    (b"a{b} 1\n", 1, 4, "expected '=' after label name, found '}'"),
    (b"a{b\n", 1, 4, "unexpected end of input stream after label name"),
    (b"a{b=c} 1\n", 1, 5, "expected '\"' at start of label value"),
    (b"a{b=\"c} 1\n", 1, 10, "label value is not terminated"),
    (b"a{b=\"\\q\"} 1\n", 1, 6, "invalid escape sequence '\\q' in label value"),
    (b"a{b=\"\\\n", 1, 6, "label value ends with a lone backslash"),
    (b"a{b=\"x\xff\"} 1\n", 1, 7, "invalid label value"),
    (b"a{b=\"c\" d} 1\n", 1, 9, "unexpected end of label value: expected ',' or '}'"),
    (b"a{b=\"c\"\n", 1, 8, "unexpected end of input stream inside labels"),
    (b"a{\"b.c\"=\"d\"} 1\n", 1, 5, "invalid label name \"b.c\""),
    (b"a{__name__=\"x\"} 1\n", 1, 3, "label name \"__name__\" is reserved"),
    (b"# TYPE s summary\ns{quantile=\"x\"} 1\n", 2, 13, "expected float as value for 'quantile' label"),
    (b"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", 2, 14, "expected float as value for 'le' label"),
    (b"a{b=\"1\", b=\"2\"} 1\n", 1, 10, "duplicate label name \"b\""),
    // The value and the timestamp.
    (b"a x\n", 1, 3, "expected float as value, got \"x\""),
    (b"a\n", 1, 2, "expected float as value, got \"\""),
    (b"a{b=\"c\"}  0x1\n", 1, 11, "expected float as value, got \"0x1\""),
    (b"a 1 x\n", 1, 5, "expected integer as timestamp, got \"x\""),
    (b"a 1 2  x\n", 1, 8, "spurious string after timestamp"),
];

const TEXT_UTF8_CASES: &[Case] = &[
    (b"\"\" 1\n", 1, 1, "empty quoted metric name"),
    (b"{\"a\xffb\"} 1\n", 1, 4, "invalid name in braces \"a\u{fffd}b\": not UTF-8"),
    (b"\"a 1\n", 1, 5, "metric name is not terminated"),
    (b"{\"a\n", 1, 4, "name in braces is not terminated"),
    (b"{\"a\"\n", 1, 5, "unexpected end of input stream after label name"),
];

const OM_CASES: &[Case] = &[
    // Lines after the end, empty lines, the end itself.
    (b"# EOF\na 1\n", 2, 1, "unexpected data after # EOF"),
    (b"# EOF\na 1", 2, 1, "unexpected data after # EOF"),
    (b"a 1\n\n# EOF\n", 2, 1, "empty line"),
    (b"a 1\n# EO", 2, 5, "data does not end with # EOF (the last line has no newline)"),
    (b"a 1\n", 2, 1, "data does not end with # EOF"),
    // HELP, TYPE and UNIT lines.
    (b"# FOO x\n# EOF\n", 1, 3, "expected '# HELP ', '# TYPE ', '# UNIT ' or '# EOF'"),
    (b"#HELP a x\n# EOF\n", 1, 2, "expected '# HELP ', '# TYPE ', '# UNIT ' or '# EOF'"),
    (b"# EOF x\n", 1, 6, "expected '# HELP ', '# TYPE ', '# UNIT ' or '# EOF'"),
    (b"# HELP 1 x\n# EOF\n", 1, 8, "expected metric name after the keyword"),
    (b"# HELP a\n# EOF\n", 1, 9, "expected a space and text after the metric name"),
    (b"# HELP \"a\x00\" x\n# EOF\n", 1, 10, "NUL byte in a quoted name"),
    (b"# HELP a \xff\n# EOF\n", 1, 10, "HELP text is not valid UTF-8"),
    (b"# TYPE a gaug\n# EOF\n", 1, 10, "invalid metric type \"gaug\""),
    (b"# UNIT a_seconds bytes\n# EOF\n", 1, 18, "unit \"bytes\" not a suffix of metric \"a_seconds\""),
    // The metric name.
    (b"1 2\n# EOF\n", 1, 1, "expected a metric name or '{'"),
    (b"{b=\"c\"} 1\n# EOF\n", 1, 1, "metric name not set"),
    (b"a{\"b\"} 1\n# EOF\n", 1, 3, "metric name already set"),
    (b"{\"\"} 1\n# EOF\n", 1, 2, "empty metric name"),
    (b"{\"a\xff\"} 1\n# EOF\n", 1, 4, "invalid UTF-8 in metric name"),
    (b"{\"a\x00\"} 1\n# EOF\n", 1, 4, "NUL byte in a quoted name"),
    (b"{\"a\\\x00\"} 1\n# EOF\n", 1, 4, "backslash before a NUL byte or a newline"),
    (b"{\"a\\\nb\"} 1\n# EOF\n", 1, 4, "backslash before a NUL byte or a newline"),
    // Labels.
    (b"a{1=\"b\"} 1\n# EOF\n", 1, 3, "expected label name, got"),
    (b"a{\n# EOF\n", 1, 3, "unexpected end of line inside labels"),
    (b"a{b} 1\n# EOF\n", 1, 4, "expected '=' after label name"),
    (b"a{b=c} 1\n# EOF\n", 1, 5, "expected quoted label value after '='"),
    (b"a{b=\"c} 1\n# EOF\n", 1, 10, "unterminated label value"),
    (b"a{b=\"\xff\"} 1\n# EOF\n", 1, 6, "invalid UTF-8 label value"),
    (b"a{\"\xff\"=\"c\"} 1\n# EOF\n", 1, 4, "invalid UTF-8 in label name"),
    (b"a{\"\"=\"c\"} 1\n# EOF\n", 1, 3, "empty label name"),
    (b"a{b=\"c\" d} 1\n# EOF\n", 1, 8, "expected ',' or '}' after label value"),
    (b"a{__name__=\"x\"} 1\n# EOF\n", 1, 3, "label name \"__name__\" is not unique"),
    (b"a{b=\"1\",b=\"2\"} 1\n# EOF\n", 1, 9, "label name \"b\" is not unique"),
    // The value, the timestamp and the exemplar.
    (b"a\n# EOF\n", 1, 2, "expected a space and a value after metric"),
    (b"a x\n# EOF\n", 1, 3, "invalid value \"x\" after metric"),
    (b"a  1\n# EOF\n", 1, 3, "expected a token after a single space, got another space"),
    (b"a 1 x\n# EOF\n", 1, 5, "invalid timestamp \"x\""),
    (b"a 1 Inf\n# EOF\n", 1, 5, "invalid timestamp \"Inf\": must be finite"),
    (b"a 1 2 3\n# EOF\n", 1, 7, "expected the end of the line or an exemplar after the timestamp"),
    (b"a 1 # {\"b\n# EOF\n", 1, 10, "unterminated quoted name"),
    (b"a 1 # {\"b\x00\"=\"c\"} 1\n# EOF\n", 1, 10, "NUL byte in a quoted name"),
    (b"a 1 # {\"b\"} 1\n# EOF\n", 1, 8, "expected label name in exemplar, got a bare quoted name"),
    (b"a 1 # {b=\"\x00\"} 1\n# EOF\n", 1, 11, "NUL byte in an exemplar's label value"),
    (b"a 1 # {} x\n# EOF\n", 1, 10, "invalid value \"x\" after exemplar labels"),
    (b"a 1 # {}1\n# EOF\n", 1, 9, "expected a space and a value after exemplar labels"),
    (b"a 1 # {} 1 x\n# EOF\n", 1, 12, "invalid exemplar timestamp \"x\""),
    (b"a 1 # {} 1 2 3\n# EOF\n", 1, 14, "expected the end of the line after the exemplar timestamp"),
    // A line that runs on past a newline in a quoted name: the fault is on the line after it.
    (b"{\"a\nb\"} x\n# EOF\n", 2, 5, "invalid value \"x\" after metric"),
];

#[test]
fn every_fault_has_the_column_of_its_first_wrong_byte() {
    let mut wrong = Vec::new();
    for (dialect, cases) in [(TEXT, TEXT_CASES), (TEXT_UTF8, TEXT_UTF8_CASES), (OM, OM_CASES)] {
        for &(body, line, column, message) in cases {
            let got = verify(body, dialect, Encoding::Identity);
            let right = matches!(
                &got,
                Err(VerifyError { position: Position::Line { line: l, column: c }, message: m, .. })
                    if (*l, *c) == (line, column) && m.starts_with(message)
            );
            if !right {
                wrong.push(format!(
                    "{:?} {:?}: want line {line} column {column} {message:?}, got {got:?}",
                    dialect.format,
                    String::from_utf8_lossy(body)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn a_column_is_the_same_whatever_pieces_the_body_arrives_in() {
    for (dialect, cases) in [(TEXT, TEXT_CASES), (OM, OM_CASES)] {
        for &(body, ..) in cases {
            let whole = verify(body, dialect, Encoding::Identity);
            for size in 1..body.len() {
                let mut check = BodyVerifier::new(dialect, Encoding::Identity, u64::MAX);
                let pieces = body.chunks(size).try_for_each(|piece| check.push(piece));
                let got = pieces.and_then(|()| check.end());
                assert_eq!(got, whole, "{:?} in pieces of {size}", String::from_utf8_lossy(body));
            }
        }
    }
}
