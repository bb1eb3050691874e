use super::*;
use crate::message::MessageAttributeValue;

fn attrs(pairs: &[(&str, &str, &str)]) -> MessageAttributes {
    pairs
        .iter()
        .map(|(name, data_type, value)| {
            (
                (*name).to_owned(),
                MessageAttributeValue {
                    data_type: (*data_type).to_owned(),
                    string_value: Some((*value).to_owned()),
                    binary_value: None,
                },
            )
        })
        .collect()
}

fn policy(text: &str) -> FilterPolicy {
    FilterPolicy::parse(text, Scope::MessageAttributes).expect("valid policy")
}

fn body_policy(text: &str) -> FilterPolicy {
    FilterPolicy::parse(text, Scope::MessageBody).expect("valid policy")
}

#[test]
fn exact_strings_and_numbers() {
    let p = policy(r#"{"color": ["red", "blue"], "size": [5]}"#);
    assert!(p.matches_attributes(&attrs(&[
        ("color", "String", "red"),
        ("size", "Number", "5")
    ])));
    assert!(p.matches_attributes(&attrs(&[
        ("color", "String", "blue"),
        ("size", "Number", "5.0")
    ])));
    assert!(!p.matches_attributes(&attrs(&[
        ("color", "String", "green"),
        ("size", "Number", "5")
    ])));
    assert!(!p.matches_attributes(&attrs(&[("color", "String", "red")])));
    // A String "5" is not the number 5.
    assert!(!p.matches_attributes(&attrs(&[
        ("color", "String", "red"),
        ("size", "String", "5")
    ])));
}

#[test]
fn prefix_suffix_and_ignore_case() {
    let p = policy(
        r#"{"name": [{"prefix": "img-"}, {"suffix": ".png"}], "kind": [{"equals-ignore-case": "JPEG"}]}"#,
    );
    assert!(p.matches_attributes(&attrs(&[
        ("name", "String", "img-1"),
        ("kind", "String", "jpeg")
    ])));
    assert!(p.matches_attributes(&attrs(&[
        ("name", "String", "x.png"),
        ("kind", "String", "JpEg")
    ])));
    assert!(!p.matches_attributes(&attrs(&[
        ("name", "String", "doc.txt"),
        ("kind", "String", "jpeg")
    ])));
}

#[test]
fn anything_but_forms() {
    let single = policy(r#"{"state": [{"anything-but": "done"}]}"#);
    assert!(single.matches_attributes(&attrs(&[("state", "String", "open")])));
    assert!(!single.matches_attributes(&attrs(&[("state", "String", "done")])));
    assert!(
        !single.matches_attributes(&attrs(&[])),
        "absent never matches anything-but"
    );
    let list = policy(r#"{"n": [{"anything-but": [1, 2]}]}"#);
    assert!(list.matches_attributes(&attrs(&[("n", "Number", "3")])));
    assert!(!list.matches_attributes(&attrs(&[("n", "Number", "2")])));
    let prefix = policy(r#"{"s": [{"anything-but": {"prefix": "tmp"}}]}"#);
    assert!(prefix.matches_attributes(&attrs(&[("s", "String", "final")])));
    assert!(!prefix.matches_attributes(&attrs(&[("s", "String", "tmp-1")])));
}

#[test]
fn numeric_ranges() {
    let p = policy(r#"{"price": [{"numeric": [">", 0, "<=", 5]}]}"#);
    assert!(p.matches_attributes(&attrs(&[("price", "Number", "5")])));
    assert!(p.matches_attributes(&attrs(&[("price", "Number", "0.5")])));
    assert!(!p.matches_attributes(&attrs(&[("price", "Number", "0")])));
    assert!(!p.matches_attributes(&attrs(&[("price", "Number", "6")])));
    let eq = policy(r#"{"price": [{"numeric": ["=", 3]}]}"#);
    assert!(eq.matches_attributes(&attrs(&[("price", "Number", "3")])));
}

#[test]
fn exists_true_and_false() {
    let present = policy(r#"{"tag": [{"exists": true}]}"#);
    assert!(present.matches_attributes(&attrs(&[("tag", "String", "x")])));
    assert!(!present.matches_attributes(&attrs(&[])));
    let absent = policy(r#"{"tag": [{"exists": false}]}"#);
    assert!(absent.matches_attributes(&attrs(&[])));
    assert!(!absent.matches_attributes(&attrs(&[("tag", "String", "x")])));
}

#[test]
fn string_arrays_match_any_element() {
    let p = policy(r#"{"tags": ["urgent"]}"#);
    assert!(p.matches_attributes(&attrs(&[("tags", "String.Array", r#"["a", "urgent"]"#)])));
    assert!(!p.matches_attributes(&attrs(&[("tags", "String.Array", r#"["a", "b"]"#)])));
}

#[test]
fn or_alternatives() {
    let p = policy(
        r#"{"source": ["shop"], "$or": [{"kind": ["order"]}, {"price": [{"numeric": [">", 100]}]}]}"#,
    );
    assert!(p.matches_attributes(&attrs(&[
        ("source", "String", "shop"),
        ("kind", "String", "order")
    ])));
    assert!(p.matches_attributes(&attrs(&[
        ("source", "String", "shop"),
        ("price", "Number", "500")
    ])));
    assert!(!p.matches_attributes(&attrs(&[
        ("source", "String", "shop"),
        ("price", "Number", "5")
    ])));
    assert!(!p.matches_attributes(&attrs(&[
        ("source", "String", "web"),
        ("kind", "String", "order")
    ])));
}

#[test]
fn body_scope_with_nested_keys() {
    let p = body_policy(
        r#"{"order": {"status": ["paid"], "total": [{"numeric": [">=", 10]}]}, "vip": [true]}"#,
    );
    assert!(p.matches_body(r#"{"order": {"status": "paid", "total": 12}, "vip": true}"#));
    assert!(!p.matches_body(r#"{"order": {"status": "open", "total": 12}, "vip": true}"#));
    assert!(!p.matches_body(r#"{"order": {"status": "paid", "total": 12}}"#));
    assert!(!p.matches_body("not json"));
    let arrays = body_policy(r#"{"items": {"sku": ["a1"]}, "labels": ["x"]}"#);
    assert!(
        arrays.matches_body(r#"{"items": [{"sku": "b"}, {"sku": "a1"}], "labels": ["y", "x"]}"#)
    );
    let null = body_policy(r#"{"parent": [null]}"#);
    assert!(null.matches_body(r#"{"parent": null}"#));
    assert!(!null.matches_body(r#"{"parent": "p"}"#));
}

#[test]
fn refuses_bad_policies() {
    let refused =
        |text: &str| FilterPolicy::parse(text, Scope::MessageAttributes).expect_err("refused");
    refused("{");
    refused("[]");
    refused("{}");
    refused(r#"{"a": "red"}"#);
    refused(r#"{"a": []}"#);
    refused(r#"{"a": [{"unknown": 1}]}"#);
    refused(r#"{"a": [{"numeric": [">", "x"]}]}"#);
    refused(r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#);
    refused(r#"{"a": [{"exists": "yes"}]}"#);
    refused(r#"{"a": {"nested": ["x"]}}"#);
    refused(r#"{"a": [{"prefix": 1}]}"#);
    refused(r#"{"$or": [{"a": ["x"]}]}"#);
    let too_many = refused(r#"{"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]}"#);
    assert!(too_many.0.contains("5 keys"), "{too_many}");
    let values: Vec<String> = (0..13).map(|i| i.to_string()).collect();
    let list = values.join(",");
    let complex = refused(&format!(r#"{{"a": [{list}], "b": [{list}]}}"#));
    assert!(complex.0.contains("combinations"), "{complex}");
}

#[test]
fn scope_names() {
    assert_eq!(Scope::parse("MessageBody"), Some(Scope::MessageBody));
    assert_eq!(
        Scope::parse("MessageAttributes"),
        Some(Scope::MessageAttributes)
    );
    assert_eq!(Scope::parse("body"), None);
}
