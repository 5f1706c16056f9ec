//! The layering rule README "Layout" states, checked on the sources: every module
//! imports only from its own layer or below, the modules import each other without
//! cycles, and nothing outside `http/` knows actix-web or the HTTP error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom; a module may use its own layer and those below.
const LAYERS: &[(&str, &[&str])] = &[
    ("clock", &["clock", "telemetry", "rate", "metrics"]),
    ("db", &["db"]),
    (
        "domain",
        &[
            "accounts",
            "auth",
            "recovery",
            "avatars",
            "integrations",
            "audit",
            "mail",
            "legacy",
        ],
    ),
    ("http", &["http"]),
    ("config", &["config"]),
    ("startup", &["startup", "cli", "main"]),
];

/// Words that only the HTTP layer (and the binary's entry point) may use.
const HTTP_ONLY: &[&str] = &[
    "actix_web",
    "actix_cors",
    "actix_files",
    "utoipa",
    "ApiError",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the crate (`http::routes::auth`) and its source text.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src()).unwrap().with_extension("");
                let mut parts: Vec<String> = relative
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                    parts.pop();
                }
                out.insert(parts.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &mut out);
    out
}

/// The source without comments, string contents and the unit tests at the end (whose
/// `super::` is the file's own module), so only what the module itself uses counts.
fn code_only(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_string && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' {
                in_string = !in_string;
            }
            if !in_string {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Paths named as `crate::a::b`, `super::x` or `self::y` (groups expanded), made
/// absolute.
fn paths_used(module: &str, code: &str) -> Vec<Vec<String>> {
    let here: Vec<String> = module
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let preceded = i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let start = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|p| rest.starts_with(p) && !preceded);
        let Some(prefix) = start else {
            i += 1;
            continue;
        };
        let base: Vec<String> = match prefix {
            "crate::" => Vec::new(),
            "super::" => here[..here.len().saturating_sub(1)].to_vec(),
            _ => here.clone(),
        };
        i += prefix.len();
        let (tails, end) = parse_tree(&bytes, i);
        i = end;
        for tail in tails {
            let mut path = base.clone();
            path.extend(tail);
            found.push(path);
        }
    }
    found
}

/// `a::b::{c, d::e}` from position `i`: each full tail, and where parsing stopped.
fn parse_tree(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        if chars.get(i) == Some(&'{') {
            let mut tails = Vec::new();
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return (tails, i + 1);
                }
                let (inner, end) = parse_tree(chars, i);
                for tail in inner {
                    let mut full = prefix.clone();
                    full.extend(tail);
                    tails.push(full);
                }
                i = end;
                // Skip `as name` and anything else up to the next item.
                while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > start {
            prefix.push(chars[start..i].iter().collect::<String>());
        }
        if chars[i..].starts_with(&[':', ':']) {
            i += 2;
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The deepest module of `modules` that `path` names.
fn resolve(path: &[String], modules: &BTreeMap<String, String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|candidate| modules.contains_key(candidate))
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, tops)| tops.contains(&top(module)))
        .unwrap_or_else(|| panic!("module {module} is in no layer of LAYERS"))
}

/// Module -> the modules it uses, leaving out a module's own parts (its
/// descendants) and the entities' two-sided relations.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for (module, text) in &modules {
        if module.is_empty() {
            continue;
        }
        let uses: BTreeSet<String> = paths_used(module, &code_only(text))
            .iter()
            .filter_map(|path| resolve(path, &modules))
            .filter(|used| used != module && !used.starts_with(&format!("{module}::")))
            .filter(|used| {
                !(module.starts_with("db::entity::") && used.starts_with("db::entity::"))
            })
            .collect();
        graph.insert(module.clone(), uses);
    }
    graph
}

#[test]
fn modules_use_only_their_layer_and_below() {
    let mut wrong = Vec::new();
    for (module, uses) in graph() {
        for used in uses {
            if layer(&used) > layer(&module) {
                wrong.push(format!("{module} -> {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn modules_have_no_import_cycles() {
    let graph = graph();
    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        stack: &mut Vec<&'a str>,
        cycles: &mut Vec<String>,
    ) {
        match state.get(node) {
            Some(true) => return,
            Some(false) => {
                let from = stack.iter().position(|n| *n == node).unwrap();
                cycles.push(format!("{} -> {node}", stack[from..].join(" -> ")));
                return;
            }
            None => {}
        }
        state.insert(node, false);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, state, stack, cycles);
        }
        stack.pop();
        state.insert(node, true);
    }
    let (mut state, mut cycles) = (BTreeMap::new(), Vec::new());
    for node in graph.keys() {
        visit(node, &graph, &mut state, &mut Vec::new(), &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn only_the_http_layer_knows_actix_and_the_http_error() {
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        if top(&module) == "http" || module == "main" {
            continue;
        }
        let code = code_only(&text);
        for word in HTTP_ONLY {
            if code.contains(word) {
                wrong.push(format!("{module} uses {word}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_checker_sees_what_it_should() {
    let graph = graph();
    let uses = |m: &str| graph.get(m).cloned().unwrap_or_default();
    assert!(uses("http::routes::auth").contains("accounts"));
    assert!(uses("accounts::query").contains("db::entity::user"));
    assert!(uses("startup").contains("http"), "{:?}", uses("startup"));
    assert!(
        paths_used("a::b", "use super::{x::y, z};")
            == vec![vec!["a", "x", "y"], vec!["a", "z"]]
                .into_iter()
                .map(|p| p.into_iter().map(str::to_owned).collect::<Vec<_>>())
                .collect::<Vec<_>>()
    );
}
