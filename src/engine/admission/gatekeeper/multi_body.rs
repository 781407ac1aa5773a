//! Rego v0's multi-body rules (`head { body1 } { body2 }`, the same as two rules with the same
//! head), which regorus rejects (set rules) or reads as `else` (functions), rewritten as separate
//! rules before a template is compiled; strings, raw strings and comments are skipped, bodies are the
//! `{` at nesting depth 0 that do not follow `=`, `:=`, `,`, `(`, `[` or `:` (which open object
//! or set values).

/// The source with every extra body of a multi-body rule given its own copy of the rule head;
/// `None` when there is nothing to rewrite.
pub fn split_rule_bodies(source: &str) -> Option<String> {
    let characters: Vec<char> = source.chars().collect();
    let mut output = String::with_capacity(source.len() + 256);
    let mut depth: i64 = 0;
    let mut statement_start = 0usize;
    let mut head: Option<String> = None;
    // The last significant character outside strings and comments, and whether it closed a body.
    let mut last_significant: Option<char> = None;
    let mut last_closed_body = false;
    // Whether the `{` open at depth 0 started a rule body (not an object or set value).
    let mut open_is_body = false;
    let mut at_line_start = true;
    let mut rewritten = false;
    let mut index = 0usize;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '#' => {
                while index < characters.len() && characters[index] != '\n' {
                    output.push(characters[index]);
                    index += 1;
                }
                continue;
            }
            '"' | '`' => {
                let quote = character;
                output.push(character);
                index += 1;
                while index < characters.len() {
                    let inner = characters[index];
                    output.push(inner);
                    index += 1;
                    if quote == '"' && inner == '\\' && index < characters.len() {
                        output.push(characters[index]);
                        index += 1;
                    } else if inner == quote {
                        break;
                    }
                }
                last_significant = Some(quote);
                last_closed_body = false;
                at_line_start = false;
                continue;
            }
            '\n' => {
                if depth == 0 {
                    at_line_start = true;
                }
                output.push(character);
                index += 1;
                continue;
            }
            character if character.is_whitespace() => {
                output.push(character);
                index += 1;
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            if character == '{' {
                let opens_value = matches!(last_significant, Some('=' | ',' | '(' | '[' | ':'));
                if last_closed_body && let Some(head) = &head {
                    output.push('\n');
                    output.push_str(head);
                    output.push(' ');
                    rewritten = true;
                    open_is_body = true;
                } else if !opens_value {
                    if head.is_none() {
                        let text: String = characters[statement_start..index].iter().collect();
                        head = Some(text.trim_end().to_string());
                    }
                    open_is_body = true;
                } else {
                    open_is_body = false;
                }
            } else if at_line_start && !starts_with_word(&characters[index..], "else") {
                statement_start = index;
                head = None;
            }
        }
        at_line_start = false;
        match character {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
        last_closed_body = character == '}' && depth == 0 && open_is_body;
        last_significant = Some(character);
        output.push(character);
        index += 1;
    }
    rewritten.then_some(output)
}

fn starts_with_word(characters: &[char], word: &str) -> bool {
    let length = word.chars().count();
    characters.len() >= length
        && characters[..length].iter().copied().eq(word.chars())
        && characters
            .get(length)
            .is_none_or(|next| !next.is_alphanumeric() && *next != '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_bodies_get_the_head() {
        let source = "package p\n\nkind(obj) = spec {\n  obj.kind == \"Pod\" # {\n  spec := 1\n} {\n  obj.kind == \"Job\"\n  spec := \"}\"\n}\n\nviolation[{\"msg\": msg}] {\n  msg := \"a\"\n} {\n  msg := \"b\"\n}\n";
        let rewritten = split_rule_bodies(source).unwrap_or_default();
        assert!(
            rewritten.contains("} \nkind(obj) = spec {\n  obj.kind == \"Job\""),
            "{rewritten}"
        );
        assert!(
            rewritten.contains("} \nviolation[{\"msg\": msg}] {\n  msg := \"b\""),
            "{rewritten}"
        );
    }

    #[test]
    fn a_value_before_a_body_is_part_of_the_head() {
        let source = "package p\nf(x) = {\"a\": x} {\n  x > 1\n} {\n  x < 0\n}\n";
        let rewritten = split_rule_bodies(source).unwrap_or_default();
        assert!(
            rewritten.contains("} \nf(x) = {\"a\": x} {\n  x < 0"),
            "{rewritten}"
        );
    }

    #[test]
    fn values_and_else_are_left_alone() {
        let source = "package p\nx = {\"a\": 1}\ny = {\"b\": 2}\nf(v) = 1 {\n  v > 1\n} else = 2 {\n  true\n}\n";
        assert_eq!(split_rule_bodies(source), None);
    }
}
