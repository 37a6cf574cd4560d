#!/usr/bin/env python3
"""Train the script classifier. Run by `cargo xtask train`; do not run by hand
unless you featurized first (`cargo xtask featurize`). For experiments,
`--quick` runs only the by-collection folds and prints the headline numbers:

    models/.venv/bin/python models/train.py --features models/.cache/features.jsonl \
        --meta models/.cache/features-meta.json --out-dir models --quick

Input is the feature matrix the Rust feature code wrote (one sparse row per
sample), so training sees exactly the vectors the sensor computes. Steps:

1. Leave-one-source-out validation: every collection family (a collection and
   its `-python-c` offshoot, the CPython sets together) is held out in turn,
   and a model trained on all the others scores it. These out-of-fold scores
   give the by-source numbers and the per-language alert thresholds (FPR <= 0.1%).
   Our own synthetic collection is held out the same way but reported apart and
   never used for thresholds or headline numbers.
2. The final model is trained on everything (weak_signal samples excluded),
   exported to ONNX, and checked against onnxruntime.
3. Writes script-classifier.onnx, script-classifier.json (thresholds, weights
   for evidence, schema), parity.jsonl (inputs + expected scores for the Rust
   parity test) and MODEL_CARD.md.
"""
import argparse
import collections
import hashlib
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

SEED = 1234
TARGET_FPR = 0.001
C = 2.0
# Each source family weighs like size^0.7 within its (language, label): big
# families (nl2bash, pypi-malregistry) do not drown the rest, small ones do not
# dominate either (by-collection validation on schema v9: 0.3 and 1.0 were worse
# on both languages' TPR than 0.7; 0.5 was the previous setting).
FAMILY_POWER = 0.7
MODEL_NAME = "script-classifier"
SYNTHETIC_PREFIX = "synthetic"


# Why a held-out collection is hard to detect, in an analyst's words (quoted in
# the card's blind spots next to its measured detection rate).
WHY_MISSED = {
    "atomic-red-team": "ATT&CK tests are mostly single admin-style commands (`sudo systemctl stop cron`, `defaults write`, "
    "`openssl genrsa`, `crontab -l`, `find -path .../Bookmarks`), many for macOS; their text reads like the admin one-liners of nl2bash and "
    "Dockerfiles, and only about half fire any named indicator",
    "atomic-red-team|python": "the Atomic Python payloads are a few small helpers (an HTTP client, a code-injection "
    "demo) written like ordinary Python",
    "atomic-red-team-python-c": "tiny Python one-liners for discovery/collection with no attack idiom in the text",
    "gtfobins": "file transfer and shell escapes through ordinary binaries with ordinary flags (`kubectl proxy`, "
    "`busybox httpd`, `scp`, `tftp`, `nginx -c`, `service ../../bin/sh`): what makes them malicious is who runs them (SUID, "
    "sudo rules), not the text, and many share tokens with benign one-liners",
    "payloadsallthethings": "cheat-sheet lines include enumeration and setup steps (`find / -perm -4000`, `ls -al /etc/cron*`, "
    "`openssl req -x509 ...`) that are not malicious on their own",
    "pypi-malregistry": "held out, it takes 97% of the malicious Python with it: the model trained for this fold has seen "
    "fewer than 100 malicious Python files, so it must recognise PyPI malware from indicators and shell-side tokens alone",
    "pypi-malregistry-shellcmds": "shell strings from PyPI malware, often Windows commands or plain downloads",
    "python-rat-agents": "RAT modules are ordinary-looking classes (sockets, threads, file I/O) without download-and-run "
    "or decode-and-exec idioms; what makes them malicious is the whole program, not one line",
    "droppers-in-the-wild-train": "only 11 files; the ones missed are miner helpers (cleaners, killers) whose lines are "
    "mostly `ps`/`grep`/`kill` loops",
    "linux-postexploit-tools": "whole enumeration tools (LinEnum, exploit suggester, mimipenguin) are long and mostly read "
    "system state, like benign admin scripts",
}


def family(collection):
    """Collections that come from the same upstream are held out together."""
    c = collection
    if c.endswith("-python-c"):
        c = c[: -len("-python-c")]
    if c.startswith("cpython-"):
        return "cpython"
    if c == "pypi-malregistry-shellcmds":
        return "pypi-malregistry"
    if c.startswith(SYNTHETIC_PREFIX):
        return SYNTHETIC_PREFIX
    return c


def upstream(source, collection):
    """The upstream unit a sample comes from, for the secondary protocol: one
    PyPI package, Debian package, GTFOBins binary, ATT&CK technique, cheat-sheet
    page, Docker image folder or repository. Every nl2bash line is its own unit."""
    repo, _, path = source.partition(":")
    path = path.split("#")[0].split("!")[0].split("@")[0]
    if collection.startswith("nl2bash"):
        return source
    if repo in ("debian", "pypi"):
        return f"{repo}:{path.split(':')[0]}"
    if "pypi_malregistry" in repo:
        return f"pypi-mal:{path.split('/')[0]}"
    if "atomic-red-team" in repo:
        return f"atomic:{path.split('/')[1] if '/' in path else path}"
    if "GTFOBins" in repo:
        return f"gtfobins:{path.split('/')[-1]}"
    if "cpython" in repo:
        parts = path.split("/")
        return f"cpython:{parts[1] if len(parts) > 2 else path}"
    if "AllTheThings" in repo or "dockerfiles" in repo:
        return f"{repo}:{path.rsplit('/', 1)[0] if 'dockerfiles' in repo else path}"
    return repo


def load(features_path, dim):
    ids, lang, kind, label, coll, source, weak, length = [], [], [], [], [], [], [], []
    indptr, indices, data = [0], [], []
    with open(features_path) as f:
        for line in f:
            r = json.loads(line)
            ids.append(r["id"])
            lang.append(r["lang"])
            kind.append(r["kind"])
            label.append(1 if r["label"] == "malicious" else 0)
            coll.append(r["collection"])
            source.append(r["source"])
            weak.append(bool(r["weak_signal"]))
            length.append(r["len"])
            indices.extend(r["i"])
            data.extend(r["v"])
            indptr.append(len(indices))
    X = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(ids), dim),
    )
    return dict(
        X=X,
        id=np.array(ids),
        lang=np.array(lang),
        kind=np.array(kind),
        y=np.array(label),
        collection=np.array(coll),
        family=np.array([family(c) for c in coll]),
        upstream=np.array([upstream(s, c) for s, c in zip(source, coll)]),
        source=np.array(source),
        weak=np.array(weak),
        length=np.array(length),
    )


def sample_weights(d, mask):
    """Over the rows in `mask`: each family weighs sqrt(size) within its (language,
    label), and the two labels weigh the same within each language."""
    w = np.zeros(len(d["y"]))
    for lg in ("bash", "python"):
        n_lang = (mask & (d["lang"] == lg)).sum()
        for lab in (0, 1):
            sel = mask & (d["lang"] == lg) & (d["y"] == lab)
            if not sel.any():
                continue
            for fam, count in collections.Counter(d["family"][sel]).items():
                w[sel & (d["family"] == fam)] = count**FAMILY_POWER / count
            w[sel] *= 0.5 * n_lang / w[sel].sum()
    return w[mask]


def fit(d, mask):
    clf = LogisticRegression(C=C, solver="lbfgs", max_iter=5000, tol=1e-6, random_state=SEED)
    clf.fit(d["X"][mask], d["y"][mask], sample_weight=sample_weights(d, mask))
    return clf


def threshold_for(benign_scores, fpr=TARGET_FPR):
    """Smallest float32 threshold with (benign >= t) / n <= fpr."""
    b = np.sort(np.asarray(benign_scores, dtype=np.float32))[::-1]
    allowed = int(np.floor(fpr * len(b)))
    if allowed >= len(b):
        return np.float32(0.0)
    return np.nextafter(b[allowed], np.float32(1.0))


def metrics(scores, y, t):
    scores, y = np.asarray(scores), np.asarray(y)
    pos, neg = scores[y == 1], scores[y == 0]
    out = {"n_mal": int(len(pos)), "n_ben": int(len(neg))}
    out["auc"] = float(roc_auc_score(y, scores)) if len(pos) and len(neg) else None
    out["tpr"] = float((pos >= t).mean()) if len(pos) else None
    out["fpr"] = float((neg >= t).mean()) if len(neg) else None
    out["fp"] = int((neg >= t).sum())
    out["tp"] = int((pos >= t).sum())
    return out


def fmt(x, pct=False):
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.4f}"


def tpr_at_best_threshold(scores, y, fpr=TARGET_FPR):
    """TPR with a threshold tuned on this very set (an optimistic ceiling, for context only)."""
    scores, y = np.asarray(scores), np.asarray(y)
    if not (y == 1).any() or not (y == 0).any():
        return None
    t = threshold_for(scores[y == 0], fpr)
    return float((scores[y == 1] >= t).mean())


def print_quick(d, oof):
    """The by-collection headline numbers, for experiments between full runs."""
    main_rows = (d["family"] != SYNTHETIC_PREFIX) & ~d["weak"]
    for lg in ("bash", "python"):
        m = main_rows & (d["lang"] == lg)
        t = threshold_for(oof[m & (d["y"] == 0)])
        r = metrics(oof[m], d["y"][m], t)
        print(f"{lg}: AUC {r['auc']:.4f}  TPR {100 * r['tpr']:.1f}%  FP {r['fp']}  threshold {t:.4f}")
        for coll in sorted(set(d["collection"][m & (d["y"] == 1)])):
            mm = m & (d["collection"] == coll) & (d["y"] == 1)
            print(f"    {coll:30s} n={int(mm.sum()):5d}  detected {100 * (oof[mm] >= t).mean():5.1f}%")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="by-collection folds only: print the headline numbers and exit (about 1 minute; writes no model)")
    args = ap.parse_args()
    started = time.time()

    meta = json.load(open(args.meta))
    dim = meta["dim"]
    d = load(args.features, dim)
    n = len(d["y"])
    synthetic = d["family"] == SYNTHETIC_PREFIX
    trainable = ~d["weak"]
    families = sorted(set(d["family"]))
    print(f"train.py: {n} samples, {dim} features, {len(families)} source families", file=sys.stderr)

    # 1. Leave-one-source-out scores.
    oof = np.full(n, np.nan)
    for fam in families:
        held = d["family"] == fam
        clf = fit(d, trainable & ~held)
        oof[held] = clf.predict_proba(d["X"][held])[:, 1]
        print(f"  held out {fam:28s} n={held.sum():5d}  mean score {oof[held].mean():.3f}", file=sys.stderr)

    # Held-out scores, for error analysis (models/.cache is not committed).
    with open(os.path.join(os.path.dirname(args.features), "oof.jsonl"), "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": d["id"][i], "family": d["family"][i], "lang": d["lang"][i], "kind": d["kind"][i],
                                "label": int(d["y"][i]), "weak": bool(d["weak"][i]), "oof": float(oof[i])}) + "\n")

    if args.quick:
        print_quick(d, oof)
        return

    # Secondary protocol (reported apart, never used for thresholds): 5 folds
    # grouped by upstream unit, so no package/binary/technique/page is on both sides.
    from sklearn.model_selection import StratifiedGroupKFold

    oof_up = np.full(n, np.nan)
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED)
    for tr_idx, te_idx in folds.split(np.zeros(n), d["y"], d["upstream"]):
        tr = np.zeros(n, dtype=bool)
        tr[tr_idx] = True
        clf = fit(d, trainable & tr)
        oof_up[te_idx] = clf.predict_proba(d["X"][te_idx])[:, 1]
    print("  upstream-grouped 5-fold done", file=sys.stderr)

    evaluated = ~synthetic  # headline numbers: real sources only
    main_rows = evaluated & ~d["weak"]
    thresholds = {}
    for lg in ("bash", "python"):
        ben = main_rows & (d["lang"] == lg) & (d["y"] == 0)
        thresholds[lg] = float(threshold_for(oof[ben]))

    def t_of(mask):
        return np.array([thresholds[l] for l in d["lang"][mask]])

    def block(mask):
        s, y = oof[mask], d["y"][mask]
        t = t_of(mask)
        pos, neg = s[y == 1], s[y == 0]
        tp, fp = int((pos >= t[y == 1]).sum()), int((neg >= t[y == 0]).sum())
        return {
            "n_mal": int(len(pos)),
            "n_ben": int(len(neg)),
            "auc": float(roc_auc_score(y, s)) if len(pos) and len(neg) else None,
            "tpr": tp / len(pos) if len(pos) else None,
            "fpr": fp / len(neg) if len(neg) else None,
            "tp": tp,
            "fp": fp,
            "ceiling_tpr": tpr_at_best_threshold(s, y),
        }

    results = {"per_lang": {}, "per_lang_kind": {}, "per_family": {}, "with_weak": {}, "synthetic": {}}
    for lg in ("bash", "python"):
        results["per_lang"][lg] = block(main_rows & (d["lang"] == lg))
        results["with_weak"][lg] = block(evaluated & (d["lang"] == lg))
        for kd in ("file", "inline"):
            m = main_rows & (d["lang"] == lg) & (d["kind"] == kd)
            if m.any():
                results["per_lang_kind"][f"{lg}/{kd}"] = block(m)
        sm = synthetic & (d["lang"] == lg)
        if sm.any():
            results["synthetic"][lg] = block(sm)
    results["overall"] = block(main_rows)
    for coll in sorted(set(d["collection"][~synthetic])):
        for lg in ("bash", "python"):
            for kd in ("file", "inline"):
                m = main_rows & (d["collection"] == coll) & (d["lang"] == lg) & (d["kind"] == kd)
                if m.any():
                    results["per_family"][f"{coll}|{lg}|{kd}"] = block(m)
    # The secondary protocol, with its own per-language thresholds.
    results["upstream"] = {}
    up_thresholds = {}
    for lg in ("bash", "python"):
        ben = main_rows & (d["lang"] == lg) & (d["y"] == 0)
        up_thresholds[lg] = float(threshold_for(oof_up[ben]))
    for scope in ("bash", "python", "bash/file", "bash/inline", "python/file", "python/inline"):
        lg, _, kd = scope.partition("/")
        m = main_rows & (d["lang"] == lg) & ((d["kind"] == kd) if kd else True)
        s_, y_ = oof_up[m], d["y"][m]
        t = up_thresholds[lg]
        results["upstream"][scope] = {
            "n_mal": int((y_ == 1).sum()),
            "n_ben": int((y_ == 0).sum()),
            "auc": float(roc_auc_score(y_, s_)) if (y_ == 1).any() and (y_ == 0).any() else None,
            "tpr": float((s_[y_ == 1] >= t).mean()) if (y_ == 1).any() else None,
            "fpr": float((s_[y_ == 0] >= t).mean()) if (y_ == 0).any() else None,
            "fp": int((s_[y_ == 0] >= t).sum()),
            "ceiling_tpr": tpr_at_best_threshold(s_, y_),
        }
    results["upstream_thresholds"] = up_thresholds
    weak_rows = evaluated & d["weak"]
    weak_detect = float((oof[weak_rows] >= t_of(weak_rows)).mean()) if weak_rows.any() else None

    # 2. Final model on everything trainable.
    final = fit(d, trainable)
    proba = final.predict_proba(d["X"])[:, 1]

    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    import onnxruntime as ort

    onx = convert_sklearn(
        final,
        name=MODEL_NAME,
        initial_types=[("features", FloatTensorType([None, dim]))],
        options={id(final): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onx.doc_string = f"feature_schema={meta['feature_schema']}"
    onnx_bytes = onx.SerializeToString()
    onnx_path = os.path.join(args.out_dir, f"{MODEL_NAME}.onnx")
    with open(onnx_path, "wb") as f:
        f.write(onnx_bytes)
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    X32 = d["X"].astype(np.float32)
    onnx_scores = np.concatenate(
        [sess.run(["probabilities"], {"features": X32[i : i + 512].toarray()})[0][:, 1] for i in range(0, n, 512)]
    )
    onnx_max_diff = float(np.abs(onnx_scores - proba).max())
    print(f"  onnx vs sklearn max |diff| = {onnx_max_diff:.2e} (outputs {out_names})", file=sys.stderr)
    if onnx_max_diff > 1e-5:
        sys.exit(f"ONNX export disagrees with scikit-learn by {onnx_max_diff}")

    version = f"{MODEL_NAME}-{hashlib.sha256(onnx_bytes).hexdigest()[:12]}"
    sidecar = {
        "model_version": version,
        "feature_schema": meta["feature_schema"],
        "dim": dim,
        "input": "features",
        "output": "probabilities",
        "thresholds": {k: float(np.float32(v)) for k, v in thresholds.items()},
        "target_fpr": TARGET_FPR,
        "intercept": float(final.intercept_[0]),
        "weights": [float(np.float32(w)) for w in final.coef_[0]],
    }
    with open(os.path.join(args.out_dir, f"{MODEL_NAME}.json"), "w") as f:
        json.dump(sidecar, f, separators=(",", ":"))
        f.write("\n")

    # 3. Parity fixture: our synthetic samples (the corpus never enters the repo).
    with open(os.path.join(args.out_dir, "parity.jsonl"), "w") as f:
        for i in np.flatnonzero(synthetic):
            f.write(json.dumps({"id": d["id"][i], "lang": d["lang"][i], "score": float(proba[i])}) + "\n")

    write_card(args.out_dir, meta, d, results, thresholds, weak_detect, final, version, onnx_max_diff,
               len(onnx_bytes), synthetic, oof, time.time() - started)
    print(f"train.py: wrote {onnx_path} ({len(onnx_bytes)} bytes), thresholds {thresholds}", file=sys.stderr)


def write_limits(w, meta, d, oof, thresholds, synthetic):
    """What limits the by-collection numbers, measured: which benign samples set
    each threshold, how many held-out malicious samples fire no named indicator,
    and how many have a benign sample with (almost) the same feature vector."""
    names = meta["names"]
    n_ind = sum(1 for x in names if x.startswith("ind:"))
    X = d["X"].tocsr()
    has_ind = np.asarray((X[:, :n_ind] != 0).sum(axis=1)).ravel() > 0
    # Cosine similarity of the token blocks: how close the text is to some benign text.
    H = X[:, meta["hash_offset"]:]
    norms = np.sqrt(np.asarray(H.multiply(H).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    Xn = sp.diags(1.0 / norms) @ H
    main = ~synthetic & ~d["weak"]
    w("## What limits the held-out numbers (measured on the out-of-fold scores above)")
    w("")
    w("| lang | held-out malicious | fire no named indicator | of those flagged | with indicators: flagged | no indicator and tokens within cosine 0.6 of a benign sample | of those flagged |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    top_benign = {}
    for lg in ("bash", "python"):
        mal = main & (d["lang"] == lg) & (d["y"] == 1)
        ben = main & (d["lang"] == lg) & (d["y"] == 0)
        t = thresholds[lg]
        flagged = oof >= t
        sim = (Xn[mal] @ Xn[ben].T).max(axis=1).toarray().ravel()
        noi = mal & ~has_ind
        near = (sim >= 0.6) & ~has_ind[mal]
        wi = mal & has_ind

        def rate(m):
            return f"{100 * flagged[m].mean():.1f}%" if m.any() else "–"

        fl_mal = flagged[mal]
        w(f"| {lg} | {int(mal.sum())} | {int(noi.sum())} | {rate(noi)} | {rate(wi)} | {int(near.sum())} | "
          f"{(100 * fl_mal[near].mean()):.1f}% |" if near.any() else
          f"| {lg} | {int(mal.sum())} | {int(noi.sum())} | {rate(noi)} | {rate(wi)} | 0 | – |")
        order = np.flatnonzero(ben)[np.argsort(-oof[ben])][:6]
        top_benign[lg] = order
    w("")
    parts = []
    for coll in sorted(set(d["collection"][main & (d["lang"] == "bash") & (d["y"] == 1)])):
        m = main & (d["lang"] == "bash") & (d["y"] == 1) & (d["collection"] == coll)
        parts.append(f"`{coll}` {int((m & ~has_ind).sum())} of {int(m.sum())}")
    w("Held-out malicious bash samples that fire no named indicator, per collection: " + ", ".join(parts) + ".")
    w("")
    w("A malicious sample that fires no named indicator is scored on its tokens alone, and tokens learned from other sources "
      "transfer poorly: that is where most misses are. Exact textual twins are rare (the corpus was deduplicated across labels), "
      "but a malicious sample with no indicator whose tokens are close to a benign sample's is, to a text model, an ordinary command "
      "(e.g. an Atomic test that is one `sudo systemctl stop cron` or `openssl genrsa` line): none of those is flagged.")
    w("")
    w("The benign samples with the highest held-out scores set the thresholds (at 0.1% FPR only floor(0.001 x benign) of them may "
      "score at or above it: 4 for bash, 2 for python). They are:")
    w("")
    w("| lang | id | collection | held-out score | named indicators fired |")
    w("|---|---|---|---:|---|")
    for lg, order in top_benign.items():
        for i in order:
            row = X[i]
            fired = [names[j][4:] for j in row.indices if j < n_ind and row[0, j] != 0]
            w(f"| {lg} | `{d['id'][i]}` | {d['collection'][i]} | {oof[i]:.4f} | {', '.join(fired) or '–'} |")
    w("")
    w("At the time of writing the top bash ones are genuine lookalikes from nl2bash and Debian: `find / -perm /g=s` (a SUID/SGID hunt, "
      "exactly what privilege-escalation cheat sheets run), `history -cr` (clears history), `x=$(whoami)`, a package purge script that "
      "removes `.psql_history`, and everyday one-liners with `/tmp` and `/path/to` paths whose tokens the held-out-nl2bash model has "
      "only seen in GTFOBins-style text. No text feature can push the first two below their malicious twins, so bash TPR at 0.1% FPR "
      "is bounded by how many malicious samples score above plain attacker-like admin commands: with 4,384 benign bash samples, "
      "5 such lines are enough to set the threshold.")
    w("")


def latency_verdict(lat):
    """The latency targets, met or missed, from latency.json's numbers."""
    c = lat.get("corpus") or {}
    slow = [f"{r['lang']} {r['kib']} KiB (p99 {r['p99_us']} µs)" for r in lat["sizes"]["rows"] if r["p99_us"] >= 250]
    slow_median = [f"{r['lang']} {r['kib']} KiB ({r['median_us']} µs)" for r in lat["sizes"]["rows"] if r["median_us"] >= 50]
    parts = []
    if c:
        parts.append(f"On the corpus the median target (< 50 µs) is {'met' if c['median_us'] < 50 else '**missed**'} "
                     f"({c['median_us']} µs) and the p99 target (< 250 µs) is {'met' if c['p99_us'] < 250 else '**missed**'} ({c['p99_us']} µs).")
    if slow:
        parts.append("On the indicator-dense worst case the p99 target is **missed** for " + ", ".join(slow) + "; met for the smaller sizes.")
    else:
        parts.append("On the indicator-dense worst case every size meets the p99 target.")
    if slow_median:
        parts.append("Its medians are 50 µs or more for " + ", ".join(slow_median) + ".")
    return " ".join(parts)


def write_card(out_dir, meta, d, results, thresholds, weak_detect, final, version, onnx_diff, onnx_size,
               synthetic, oof, seconds):
    L = []
    w = L.append
    n_real = int((~synthetic).sum())
    w("# Model card: script-classifier")
    w("")
    w("_Generated by `cargo xtask train` (models/train.py). Do not edit by hand: every number here comes from the last training run._")
    w("")
    w(f"- Model version: `{version}`; feature schema `{meta['feature_schema']}`; ONNX file {onnx_size / 1024:.0f} KiB.")
    w(f"- Alert thresholds (score >= threshold means malicious): bash **{thresholds['bash']:.4f}**, python **{thresholds['python']:.4f}**, "
      f"chosen on held-out-source scores of benign samples for FPR <= {100 * TARGET_FPR:.1f}% per language.")
    w(f"- ONNX (onnxruntime) vs scikit-learn scores on all {len(d['y'])} samples: max |diff| = {onnx_diff:.1e}.")
    w("")
    w("## What it does")
    w("")
    w("Scores a Bash/sh or Python script, or a `-c` command line, with the probability that it is malicious "
      "(ATT&CK T1059.004/T1059.006 and the techniques around them: droppers, reverse shells, miners, persistence, "
      "credential theft, defense evasion). Each score carries evidence: the features that pushed it up most, in analyst words.")
    w("")
    w("## Data")
    w("")
    w(f"The shared corpus (`shared/data/train`, {n_real} samples; see its README) plus our own synthetic collection "
      f"(`models/synthetic/`, {int(synthetic.sum())} samples, {int((synthetic & (d['y'] == 1)).sum())} malicious: hand-written droppers/persistence scripts, and "
      "technique templates x seeded variations (`models/synthetic/techniques.py`: shell escapes through ordinary binaries, reverse/bind "
      "shells in many languages, download-and-run, decode-and-exec, cron/systemd/rc/profile/ssh-key/ld.so.preload persistence, backdoor "
      "accounts, credential and cloud-metadata access, log/history wiping, security tools disabled, miners, container escapes, exfiltration) "
      "and PyPI-malware shapes (install hooks, import-time droppers, beacons), with benign hard negatives (admin one-liners, "
      "including composed find/grep/awk/ssh pipelines and discovery commands as admins type them, Dockerfile RUN lines, installers, "
      "entrypoints, healthchecks, plain setup.py files); all inert text, never "
      "executed, hosts from documentation ranges). Synthetic samples are used for training but never as held-out evidence. "
      "They were written from technique knowledge, not copied from the corpus, but **knowing the corpus's collections and technique "
      "names** (GTFOBins-style escapes, ATT&CK-style tests, cheat-sheet shells) and after looking at what the held-out models missed, "
      "so they are in every fold's training data and make the by-collection numbers for `gtfobins`, `atomic-red-team` and "
      "`payloadsallthethings` optimistic: part of what those folds measure is how well our own text covers those techniques.")
    w(f"`weak_signal` samples ({int(d['weak'].sum())}: malicious only in context, e.g. `whoami`) are left out of training and of the headline numbers; "
      "they are reported on their own below.")
    w("")
    w("| lang | kind | malicious | benign |")
    w("|---|---|---:|---:|")
    for lg in ("bash", "python"):
        for kd in ("file", "inline"):
            m = ~synthetic & (d["lang"] == lg) & (d["kind"] == kd)
            w(f"| {lg} | {kd} | {int((m & (d['y'] == 1)).sum())} | {int((m & (d['y'] == 0)).sum())} |")
    w("")
    w("## Features (one Rust implementation: `sensor-classifier/src/features.rs`)")
    w("")
    n_ind = sum(1 for x in meta["names"] if x.startswith("ind:"))
    n_num = sum(1 for x in meta["names"] if x.startswith("num:"))
    w(f"{meta['dim']} values: {n_ind} named indicators (0/1), {n_num} shape statistics, and {meta['dim'] - meta['hash_offset']} hashed buckets "
      "of token unigrams and bigrams (log counts, L2-normalised to 0.5, one token space for both languages). "
      "Tokens are lowercased; numbers/IPs/ports, host names, long hex/encoded words and cheat-sheet placeholders "
      "(`attacker`, `lhost`, `PathToAtomicsFolder`, ...) are masked so the model learns shapes, not literals. "
      "An indicator with several literal groups (e.g. a downloader *and* a command runner) fires only when the groups hit "
      "within 2 KiB of each other, so a long library module that downloads in one function and runs a subprocess in another "
      "is not a dropper. Confirming regexes look only at the lines around their literal hits (at most 4 KiB per indicator), "
      "which bounds the work on large scripts. "
      "`cargo xtask featurize` writes the training matrix with the same code the sensor scores with.")
    w("")
    w("## Model")
    w("")
    w(f"L2-regularised logistic regression (scikit-learn, lbfgs, C={C}, classes balanced per language, each source family weighted by "
      f"size^{FAMILY_POWER} so the largest collections do not dominate, seed {SEED}), "
      "exported with skl2onnx. Linear, so a score's evidence is exact: contribution = weight x value; the sensor lists the "
      "largest positive contributions. Strongest malicious-leaning named features:")
    w("")
    coef = final.coef_[0]
    named = meta["hash_offset"]
    order = np.argsort(-coef[:named])
    w("| feature | weight | evidence text |")
    w("|---|---:|---|")
    for i in order[:15]:
        w(f"| `{meta['names'][i]}` | {coef[i]:+.2f} | {meta['descriptions'][i]} |")
    w("")
    w("## Validation by collection (the target protocol: whole collections held out)")
    w("")
    w("Protocol, exactly: grouped cross-validation with one fold per source family, where a family is a collection together with "
      "collections derived from the same upstream (`X` with `X-python-c`; `cpython-stdlib`, `cpython-tests` and `cpython-dash-c`; "
      "`pypi-malregistry` with `pypi-malregistry-shellcmds`). Each family is held out in turn and scored by a model trained, with "
      "the final settings, on all other families (weak_signal samples excluded from training). So every collection is held out "
      "whole, together with its siblings. The out-of-fold scores of the real collections (never our synthetic one) are pooled per "
      "language; the alert threshold is the smallest score that keeps pooled benign FPR <= 0.1%, and that threshold is shipped. "
      "This is deliberately harsher than a random split: e.g. when `pypi-malregistry` (97% of malicious Python) is held out, the model "
      "has seen almost no malicious Python files.")
    w("")
    w("Target: ROC AUC >= 0.99 and TPR >= 95% at FPR <= 0.1%, per language.")
    w("")
    w("| scope | malicious | benign | ROC AUC | TPR @ threshold | FPR @ threshold | FP | best-case TPR @ 0.1% FPR* |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")

    def row(name, r):
        w(f"| {name} | {r['n_mal']} | {r['n_ben']} | {fmt(r['auc'])} | {fmt(r['tpr'], True)} | {fmt(r['fpr'], True)} | {r['fp']} | {fmt(r['ceiling_tpr'], True)} |")

    for lg in ("bash", "python"):
        row(f"**{lg}**", results["per_lang"][lg])
    row("all", results["overall"])
    for k, r in results["per_lang_kind"].items():
        row(k, r)
    for lg, r in results["with_weak"].items():
        row(f"{lg}, weak_signal included", r)
    w("")
    w("\\* threshold re-tuned on that very row's benign samples: an optimistic ceiling, shown only to separate ranking quality from threshold transfer.")
    w("")
    w("Caveats that make these numbers slightly optimistic: the indicator set and the training settings (C from a grid of "
      "0.25/0.5/1/2/4 (2 kept: best bash AUC, python TPR 61% vs 25% at C=0.5; re-checked on schema v8 with the larger synthetic "
      "set: C=1 gave bash AUC 0.905 / TPR 30.2% and python 0.988 / 71.9%, C=4 bash 0.899 / 26.9% and python 0.984 / 76.5%; on schema v9 "
      "with family power 0.7: C=1 bash 0.926 / 42.4% and python 0.990 / 76.4%, C=1.5 bash 0.925 / 42.0% and python 0.989 / 78.0%, "
      "C=4 bash 0.918 / 32.6% and python 0.986 / 78.0%), family weighting (size power 0.3/0.5/0.7/1.0 on schema v9 at C=2: bash TPR "
      "35.8/39.1/39.3/38.3%, python TPR 66.9/74.0/76.9/73.9%; 0.7 kept), hashed-block norm, the 2 KiB group proximity) "
      "and the indicators added in schema v8 (shell escapes through ordinary binaries, history reads, listeners, SUID/capability hunting, "
      "privileged containers, `${IFS}` evasion, timestomping, bare-IP download pipes, eval of escaped code, tighter packer shapes) and "
      "schema v9 (a shell handed to a wrapper program, a shell tied to the terminal from an option or config, raw TCP from awk/Perl/Ruby/Lua/"
      "netcat, credential-file searches, sudoers/PAM tampering, macOS launch persistence, direct Docker/kubelet API use, `log erase`; and fixes that stop shebang, comment "
      "and doctest lines, reads of `/proc/sys/kernel/yama`, `find -exec /tmp/x.sh` and the bare word `ngrok` from firing) were chosen while "
      "looking at these held-out results and at the samples the held-out models missed (and at the benign samples that scored highest). Tried on schema v9 and not kept, because by-collection numbers got worse: "
      "dropping login-shell settings and container shells (`useradd -s /bin/bash`, `docker exec -it ... /bin/bash`) from "
      "shell_spawn_argument (the synthetic `docker exec -it` negatives were what kept real `docker run -i -t ... /bin/bash` and "
      "`ssh host /bin/bash` lines low: bash TPR 41.6% -> 38.1%), indicator columns up-weighted against the tokens (x1.5: bash 41.0%, "
      "python 77.7%), labels balanced per kind as well as per language (python TPR 78.8% -> 77.2%), and a URL-of-an-executable "
      "indicator (no change); and our synthetic collection, written with knowledge of the techniques and collections in the corpus, "
      "is in every fold's training data. The final model is trained on all families, "
      "so the thresholds (picked on held-out scores) are conservative for sources like the training ones and may still be too "
      "low for genuinely new benign sources.")
    w("")
    verdict = []
    for lg in ("bash", "python"):
        r = results["per_lang"][lg]
        ok_auc = r["auc"] is not None and r["auc"] >= 0.99
        ok_tpr = r["tpr"] is not None and r["tpr"] >= 0.95
        verdict.append(f"{lg}: AUC {'meets' if ok_auc else 'MISSES'} the target ({fmt(r['auc'])}), "
                       f"TPR {'meets' if ok_tpr else 'MISSES'} it ({fmt(r['tpr'], True)} at FPR {fmt(r['fpr'], True)}).")
    w("**Against the targets:** " + " ".join(verdict))
    w("")
    if weak_detect is not None:
        w(f"`weak_signal` malicious samples (held-out scores): {100 * weak_detect:.1f}% reach the threshold, as expected for text with no attack signal.")
        w("")
    w("### Per held-out collection")
    w("")
    w("Each collection was scored by the model that did not see its family. Detection rate for malicious collections, "
      "false-positive rate for benign ones, at the per-language threshold.")
    w("")
    w("| collection | lang | kind | n | label | flagged | ROC AUC vs all held-out benign of the language | mean score |")
    w("|---|---|---|---:|---|---:|---:|---:|")
    for key, r in sorted(results["per_family"].items()):
        coll, lg, kd = key.split("|")
        sel = (d["collection"] == coll) & (d["lang"] == lg) & (d["kind"] == kd) & ~d["weak"]
        if r["n_mal"]:
            pos = oof[sel & (d["y"] == 1)]
            neg = oof[~synthetic & ~d["weak"] & (d["lang"] == lg) & (d["y"] == 0)]
            auc = roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
            w(f"| {coll} | {lg} | {kd} | {r['n_mal']} | malicious | {fmt(r['tpr'], True)} | {auc:.4f} | {pos.mean():.3f} |")
        if r["n_ben"]:
            w(f"| {coll} | {lg} | {kd} | {r['n_ben']} | benign | {fmt(r['fpr'], True)} | – | {np.mean(oof[sel & (d['y'] == 0)]):.3f} |")
    w("")
    up = results["upstream"]
    ut = results["upstream_thresholds"]
    w("### Secondary protocol: grouped 5-fold by upstream unit (NOT the target protocol)")
    w("")
    w("For context only. Samples are grouped by the upstream unit they come from (one PyPI package, Debian package, GTFOBins binary, "
      "ATT&CK technique, cheat-sheet page, Docker image folder or repository; each nl2bash line is its own unit) and split into 5 "
      f"stratified group folds (seed {SEED}); no unit is on both sides, but every collection's *style* is seen in training. "
      "This measures detection of new packages/binaries/techniques from the kinds of sources we train on, which is closer to "
      "how the sensor meets new malware of a known family than leaving a whole collection out. Thresholds are re-picked on this "
      f"protocol's own out-of-fold benign scores (bash {ut['bash']:.4f}, python {ut['python']:.4f}); the shipped thresholds are the "
      "by-collection ones above.")
    w("")
    w("| scope | malicious | benign | ROC AUC | TPR @ threshold | FPR @ threshold | FP |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for k, r in up.items():
        w(f"| {k} | {r['n_mal']} | {r['n_ben']} | {fmt(r['auc'])} | {fmt(r['tpr'], True)} | {fmt(r['fpr'], True)} | {r['fp']} |")
    w("")
    w("### Our synthetic collection (held out as its own family; NOT evidence of generalisation)")
    w("")
    w("| lang | malicious | benign | ROC AUC | TPR | FPR |")
    w("|---|---:|---:|---:|---:|---:|")
    for lg, r in results["synthetic"].items():
        w(f"| {lg} | {r['n_mal']} | {r['n_ben']} | {fmt(r['auc'])} | {fmt(r['tpr'], True)} | {fmt(r['fpr'], True)} |")
    w("")
    write_limits(w, meta, d, oof, thresholds, synthetic)
    w("## Known blind spots")
    w("")
    misses = [(k, r) for k, r in results["per_family"].items() if r["n_mal"] >= 5 and (r["tpr"] or 0) < 0.9]
    noisy = [(k, r) for k, r in results["per_family"].items() if r["n_ben"] >= 5 and (r["fpr"] or 0) > 0.002]
    for k, r in misses:
        fam, lg, kd = k.split("|")
        why = WHY_MISSED.get(f"{fam}|{lg}", WHY_MISSED.get(fam))
        w(f"- Held-out collection `{fam}` ({lg} {kd}): only {fmt(r['tpr'], True)} of {r['n_mal']} detected at the threshold"
          + (f": {why}." if why else "."))
    for k, r in noisy:
        fam, lg, kd = k.split("|")
        w(f"- Held-out collection `{fam}` ({lg} {kd}): {fmt(r['fpr'], True)} false positives ({r['fp']} of {r['n_ben']}).")
    w("- Context-only attacks (`weak_signal`: discovery commands such as `whoami; id`, `crontab -l`) look like admin one-liners; the model does not and cannot flag them from text alone.")
    w("- Malicious Python in the corpus is mostly PyPI malware aimed at Windows (PowerShell, Discord token grabbers, `.exe` droppers); Linux-container Python malware is thin, so detection there rests on the indicators (sockets + dup2/pty, decode+exec, download+exec).")
    w("- Few real malicious Bash *files* (29): long multi-stage droppers are covered mostly through their one-liner techniques and our synthetic files.")
    w("- Legitimate installers (`curl ... | sh`, writes to ~/.bashrc) share techniques with droppers; the `installers` family is the hard-negative check above.")
    w(f"- Of the {int(((d['y'] == 1) & ~d['weak'] & ~synthetic & (d['lang'] == 'bash')).sum())} non-weak malicious bash samples, many (GTFOBins "
      "shell escapes, Atomic Red Team macOS/discovery tests) fire no named indicator; their score rests on token n-grams, which "
      "transfer poorly between sources: this is the main reason bash misses its targets.")
    w("- The benign scores that set the bash threshold are admin one-liners and Dockerfile lines that really do attacker-like things: "
      "discovery (`whoami`, `ifconfig`, `cat /etc/passwd`), `find -exec` of scripts in /tmp, `NOPASSWD` into sudoers, capabilities on "
      "interpreters. Text alone cannot separate them from the same command run by an attacker.")
    w("- Benign setup.py files with build hooks (`cmdclass` for build_py/build_ext) are not in our synthetic negatives: adding them "
      "cost PyPI-malware detection in by-collection validation (python AUC 0.984 -> 0.975), so a legitimate package that runs code "
      "at build time scores higher than it should.")
    w("- Only the first 64 KiB of a script are scored (token n-grams: the first 16 KiB); a payload placed after 64 KiB of padding is not seen. Heavily packed code (PyArmor, marshal blobs) is judged on the packer's shape, not its payload.")
    w("- A linear model on bag-of-n-grams can be evaded by rewriting code into unseen tokens; the indicators raise the cost but are regex/literal based.")
    w("")
    w("## Serving and latency")
    w("")
    w("Scored in the sensor through ort (onnxruntime 1.31.1, load-dynamic); one session per process, shared. Latency is measured by "
      "`cargo bench -p sensor-classifier` (release build, one thread, `Classifier::score` = features + ONNX + evidence), which writes "
      "`models/latency.json`; the numbers below are copied from that file by `cargo xtask train`. "
      "Targets: median < 50 µs and p99 < 250 µs per script up to 64 KiB.")
    w("")
    lat_path = os.path.join(out_dir, "latency.json")
    if os.path.exists(lat_path):
        lat = json.load(open(lat_path))
        cpu = f" ({lat['cpu_model']})" if lat.get("cpu_model") else ""
        w(f"Measured with 1-minute load average {lat.get('load_average_1m')} on {lat.get('cpus')} CPUs{cpu} (the machine is shared: "
          "p99s include other processes' preemption).")
        w("")
        c = lat.get("corpus")
        if c:
            w(f"- Whole shared corpus ({c['scripts']} scripts, {c['inputs']}): median **{c['median_us']} µs**, p99 **{c['p99_us']} µs**, max {c['max_us']} µs "
              f"(thread CPU time: median {c.get('cpu_median_us')} µs, p99 {c.get('cpu_p99_us')} µs).")
        w(f"- Fixed sizes ({lat['sizes']['inputs']}, {lat['sizes']['runs_per_size']} runs each):")
        w("")
        w("| lang | size | median | p99 | CPU median | CPU p99 |")
        w("|---|---:|---:|---:|---:|---:|")
        for r in lat["sizes"]["rows"]:
            w(f"| {r['lang']} | {r['kib']} KiB | {r['median_us']} µs | {r['p99_us']} µs | {r.get('cpu_median_us')} µs | {r.get('cpu_p99_us')} µs |")
        w("")
        w(latency_verdict(lat))
    else:
        w("No `models/latency.json` yet: run `cargo bench -p sensor-classifier`.")
    w("")
    w("Where the time goes (profiled with `perf` and timed per stage in thread CPU time by "
      "`cargo run --release -p sensor-classifier --no-default-features --example stage_times` on an earlier VM, AMD EPYC, 2 shared cores): "
      "finding the ~520 indicator literals is one walk of a compact DFA that folds ASCII case itself, over 4 stretches of the text "
      "side by side, about 100-110 µs per 64 KiB (1.6 ns/byte). It is bound by the table's footprint (3220 states x 64 byte classes "
      "x 2 bytes, about 400 KB, more than fits near the core): 8 lanes, a constant row shift and unchecked loads measured the same. "
      "Confirming regexes run on windows of lines around literal hits (at most 4 KiB per indicator, shared by indicators with the "
      "same anchors); on our indicator-dense 64 KiB bash they scan about 130 KB of windows for about 150 µs, and most of them match "
      "nothing. Word gates now skip the regexes that cannot match: `nc` (in function, once, include), `date`, `exec`, `''` and `://` "
      "are anchors of network_listener, netcat_shell, timestomp, python_exec_call, shell_quote_splitting and raw_ip_url, whose "
      "regexes need them as whole words, inside words or before a digit; the literal walk's hit positions say where that holds, "
      "so those regexes run only where it does (the same results: the gated and ungated evaluations are tested equal, window edges "
      "included). On the corpus's largest 300 scripts that cut regex time from about 54 to 31 µs per script. The tokenizer (token "
      "n-grams over the first 16 KiB) costs 50-60 µs and now skips the hash of words over 40 bytes (masked as `<long>` anyway); the "
      "shape statistics about 25 µs; the ONNX run about 5 µs and the evidence 6-8 µs per script, whatever its size. Every change "
      "of this round keeps the feature vectors bit for bit (checked with "
      "`cargo run --release -p sensor-classifier --no-default-features --example vector_digest`, a digest of every vector of the "
      "corpus, our synthetic set and 128 stress texts, diffed before and after). Compared back to back with the previous engine on "
      "a loaded machine (3 runs each), the corpus p99 went from 320-384 to 310-333 µs; the indicator-dense fixed sizes did not move "
      "measurably (their `nc`, `date` and `exec` hits are real words). On that VM the corpus p99 (310-357 µs) and the 16-64 KiB "
      "sizes missed the p99 target; what is met now is said above, from the numbers. What would close the rest: a literal search that does not walk a 400 KB table byte by byte (a hashed bucket prefilter in "
      "the style of Hyperscan's FDR; Teddy only suits about 64 literals), more gates or cheaper confirming regexes for the dense "
      "case, or indicators over a bounded prefix and suffix of the text (a blind spot we chose not to open, and a retrain). "
      "Wall-clock p99s on this shared VM include other processes' time slices; `latency.json` also records each run's thread CPU time.")
    w("")
    w("## Reproduce")
    w("")
    w("`cargo xtask train` (creates `models/.venv` from `models/requirements.txt`, pinned; featurizes with Rust; trains; rewrites this card, "
      "`script-classifier.onnx`, `script-classifier.json` and `parity.jsonl`). The parity test "
      "(`cargo test -p sensor-classifier --test parity`) checks that the Rust path reproduces the training pipeline's scores to 1e-5.")
    with open(os.path.join(out_dir, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
