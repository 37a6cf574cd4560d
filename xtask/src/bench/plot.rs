//! SVG plots (plotters): latency CDF, rate vs losses, classifier by size.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::results::Results;

const SIZE: (u32, u32) = (900, 540);

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting: {e:?}")
}

/// CDF of exec -> finding latency, steady rate and bursts, log x axis (ms).
pub fn latency_cdf(path: &Path, r: &Results) -> Result<bool> {
    let series: Vec<(&str, &Vec<f64>, RGBColor)> = [
        ("steady rate", &r.latency_samples_steady, BLUE),
        ("bursts", &r.latency_samples_burst, RED),
    ]
    .into_iter()
    .filter(|(_, v, _)| !v.is_empty())
    .collect();
    if series.is_empty() {
        return Ok(false);
    }
    let to_ms = |us: f64| (us / 1000.0).max(0.01);
    let lo = series
        .iter()
        .flat_map(|(_, v, _)| v.iter())
        .copied()
        .fold(f64::MAX, f64::min);
    let hi = series
        .iter()
        .flat_map(|(_, v, _)| v.iter())
        .copied()
        .fold(0.0, f64::max);
    let x_lo = 10f64.powf(to_ms(lo).log10().floor());
    let x_hi = 10f64.powf(to_ms(hi).log10().ceil()).max(x_lo * 10.0);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Exec -> finding written: latency CDF", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("fraction of execs")
        .x_label_formatter(&|x| trim_num(*x))
        .draw()
        .map_err(err)?;
    for (name, samples, color) in series {
        let mut v = samples.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let step = (n / 2000).max(1);
        let points: Vec<(f64, f64)> = v
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i == n - 1)
            .map(|(i, x)| (to_ms(*x), (i + 1) as f64 / n as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?
            .label(format!("{name} (n = {n})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    // The targets: p50 <= 2 ms, p99 <= 10 ms.
    for (x, y, label) in [
        (2.0, 0.5, "target p50 2 ms"),
        (10.0, 0.99, "target p99 10 ms"),
    ] {
        if x > x_lo && x < x_hi {
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 5, BLACK.filled())))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| Circle::new((x + 10, y), 4, BLACK.filled()));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(true)
}

/// Per throughput step: achieved rate vs events dropped and bench execs
/// lost (unseen or without contents); the machine's no-sensor maximum as a
/// vertical line.
pub fn rate_vs_drops(path: &Path, r: &Results) -> Result<bool> {
    let mut steps: Vec<(f64, f64, f64)> = r
        .throughput_steps
        .iter()
        .map(|s| {
            (
                s.achieved_rate_per_s,
                s.dropped as f64,
                (s.unseen_execs.unwrap_or(0) + s.missing_contents_bench.unwrap_or(0)) as f64,
            )
        })
        .collect();
    if let Some(o) = &r.overhead {
        for round in &o.rounds {
            steps.push((round.with_per_s, round.with_dropped as f64, f64::NAN));
        }
    }
    if steps.is_empty() {
        return Ok(false);
    }
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let x_hi = steps
        .iter()
        .map(|s| s.0)
        .chain(r.machine_max_exec_per_s)
        .fold(0.0, f64::max)
        * 1.1;
    let y_hi = steps
        .iter()
        .flat_map(|s| [s.1, if s.2.is_nan() { 0.0 } else { s.2 }])
        .fold(0.0, f64::max)
        // At least 0..7 so that the (integer) tick labels stay distinct.
        .max(5.0)
        * 1.4;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Exec rate with the sensor vs losses", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_hi.max(1.0), 0.0..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("achieved interpreter execs/s (sensor running)")
        .y_desc("events lost in the step")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    let dropped: Vec<(f64, f64)> = steps.iter().map(|s| (s.0, s.1)).collect();
    chart
        .draw_series(LineSeries::new(dropped.clone(), BLUE.stroke_width(2)))
        .map_err(err)?
        .label("dropped (kernel ring buffer + queues)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(dropped.iter().map(|p| Circle::new(*p, 4, BLUE.filled())))
        .map_err(err)?;
    let lost: Vec<(f64, f64)> = steps
        .iter()
        .filter(|s| !s.2.is_nan())
        .map(|s| (s.0, s.2))
        .collect();
    if !lost.is_empty() {
        chart
            .draw_series(
                lost.iter()
                    .map(|p| TriangleMarker::new(*p, 6, RED.filled())),
            )
            .map_err(err)?
            .label("bench execs unseen or without contents (trace)")
            .legend(|(x, y)| TriangleMarker::new((x + 10, y), 5, RED.filled()));
    }
    if let Some(max) = r.machine_max_exec_per_s {
        chart
            .draw_series(LineSeries::new(
                vec![(max, 0.0), (max, y_hi)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("machine max, no sensor ({max:.0}/s, bash -c true)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(true)
}

/// Median and p99 scoring latency by script size (log-log), bash and Python.
pub fn classifier_sizes(path: &Path, r: &Results) -> Result<bool> {
    let Some(doc) = &r.classifier else {
        return Ok(false);
    };
    let sizes = doc["sizes"].as_array().cloned().unwrap_or_default();
    let point = |lang: &str, key: &str| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .filter(|s| s["lang"] == lang)
            .filter_map(|s| {
                Some((
                    s["size_bytes"].as_f64()? / 1024.0,
                    s[key].as_f64()?.max(0.1),
                ))
            })
            .collect()
    };
    let all: Vec<(f64, f64)> = ["bash", "python"]
        .iter()
        .flat_map(|l| point(l, "p99_us").into_iter().chain(point(l, "median_us")))
        .collect();
    if all.is_empty() {
        return Ok(false);
    }
    let (x_lo, x_hi) = all
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y_lo, y_hi) = all
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Classifier alone: latency per script by size",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x_lo * 0.8..x_hi * 1.25).log_scale(),
            (y_lo * 0.5..y_hi * 2.0).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("script size (KiB, log scale)")
        .y_desc("µs per script (log scale)")
        .x_label_formatter(&|x| trim_num(*x))
        .y_label_formatter(&|y| trim_num(*y))
        .draw()
        .map_err(err)?;
    for (lang, key, color) in [
        ("bash", "median_us", BLUE),
        ("bash", "p99_us", CYAN),
        ("python", "median_us", RED),
        ("python", "p99_us", MAGENTA),
    ] {
        let pts = point(lang, key);
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(format!("{lang} {}", key.trim_end_matches("_us")))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(true)
}

/// 1000.0 -> "1000", 0.25 -> "0.25".
fn trim_num(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
