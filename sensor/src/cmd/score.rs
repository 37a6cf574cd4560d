//! `sensor score`: the classifier on script files, a corpus file, or a `-c` literal.
//!
//! Prints one JSON object per script. A file or corpus line that cannot be
//! scored gets an error object naming it (and its line number) and the run
//! goes on; the exit status is 1 if anything could not be scored.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use sensor::score::ModelScorer;
use sensor_classifier::Lang;
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["paths", "corpus", "inline"])))]
pub struct Args {
    /// Script files to score (language from the shebang, then the extension).
    pub paths: Vec<PathBuf>,
    /// Score every line of a corpus file (JSONL with id, lang and content).
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["paths", "inline"])]
    pub corpus: Option<PathBuf>,
    /// Score this code: a shell command line or a `python -c` literal.
    #[arg(long, value_name = "CODE", conflicts_with = "paths")]
    pub inline: Option<String>,
    /// Language: bash (also sh, dash, zsh) or python. Overrides detection; --inline defaults to bash.
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Score with this model instead of the built-in one (needs --model-meta).
    #[arg(long, requires = "model_meta", value_name = "FILE.onnx")]
    pub model: Option<PathBuf>,
    /// The model's sidecar JSON (thresholds, feature schema), written by `cargo xtask train`.
    #[arg(long, requires = "model", value_name = "FILE.json")]
    pub model_meta: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scorer = match (&args.model, &args.model_meta) {
        (Some(model), Some(meta)) => ModelScorer::load_files(model, meta)?,
        _ => ModelScorer::load()?,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let failures = if let Some(code) = &args.inline {
        let lang = args.lang.unwrap_or(Lang::Bash);
        let v = scorer.verdict(lang, code)?;
        emit(&mut out, &result(json!({"inline": true}), lang, &v))?;
        0
    } else if let Some(corpus) = &args.corpus {
        score_corpus(&scorer, corpus, args.lang, &mut out)?
    } else {
        score_files(&scorer, &args.paths, args.lang, &mut out)?
    };
    out.flush()?;
    if failures > 0 {
        bail!("{failures} input(s) could not be scored (see the \"error\" lines)");
    }
    Ok(())
}

fn result(mut head: Value, lang: Lang, v: &sensor::detection::Verdict) -> Value {
    let obj = head.as_object_mut().expect("an object");
    obj.insert("lang".into(), json!(lang.as_str()));
    obj.insert("score".into(), json!(v.score));
    obj.insert(
        "verdict".into(),
        json!(if v.malicious { "malicious" } else { "benign" }),
    );
    obj.insert("threshold".into(), json!(v.threshold));
    obj.insert("evidence".into(), json!(v.evidence));
    obj.insert("model_version".into(), json!(v.model_version));
    head
}

fn emit(out: &mut impl Write, value: &Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn score_files(
    scorer: &ModelScorer,
    paths: &[PathBuf],
    lang: Option<Lang>,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let mut failures = 0;
    for path in paths {
        let scored = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .and_then(|bytes| {
                let text = String::from_utf8_lossy(&bytes);
                let lang = lang.or_else(|| Lang::detect(path, &text)).with_context(|| {
                    format!("cannot tell the language of {}: no bash/python shebang or .sh/.py extension; pass --lang", path.display())
                })?;
                Ok((lang, scorer.verdict(lang, &text)?))
            });
        match scored {
            Ok((lang, v)) => emit(out, &result(json!({"path": path}), lang, &v))?,
            Err(err) => {
                failures += 1;
                emit(out, &json!({"path": path, "error": format!("{err:#}")}))?;
            }
        }
    }
    Ok(failures)
}

fn score_corpus(
    scorer: &ModelScorer,
    corpus: &PathBuf,
    lang_override: Option<Lang>,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let file =
        File::open(corpus).with_context(|| format!("cannot open corpus {}", corpus.display()))?;
    let mut failures = 0;
    for (index, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line_no = index + 1;
        let line = line.with_context(|| format!("reading {}", corpus.display()))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match score_line(scorer, &line, lang_override) {
            Ok(value) => emit(out, &value)?,
            Err(err) => {
                failures += 1;
                emit(
                    out,
                    &json!({"line": line_no, "error": format!("{}:{line_no}: {err:#}", corpus.display())}),
                )?;
            }
        }
    }
    Ok(failures)
}

fn score_line(
    scorer: &ModelScorer,
    line: &[u8],
    lang_override: Option<Lang>,
) -> anyhow::Result<Value> {
    let sample: Value = serde_json::from_slice(line).context("not valid JSON")?;
    let field = |name: &str| sample.get(name).and_then(Value::as_str);
    let content = field("content").context("no string field \"content\"")?;
    let lang = match (lang_override, field("lang")) {
        (Some(lang), _) => lang,
        (None, Some(lang)) => lang.parse()?,
        (None, None) => bail!("no \"lang\" field; pass --lang"),
    };
    let v = scorer.verdict(lang, content)?;
    let mut head = json!({"id": field("id")});
    if let Some(label) = field("label") {
        head["label"] = json!(label);
    }
    Ok(result(head, lang, &v))
}
