//! The comparison as an SVG chart: USD over the trace's period against the mean utilisation of
//! the chosen always-on fleet. Serverless is a line through the origin (cost ∝ requests), the
//! fixed fleet a horizontal line; they cross at the break-even, and the trace is a point on
//! the serverless line. SVG only: plotters' PNG backend needs a font file, which a fresh
//! machine need not have (docs/cost-compare.md).

use std::path::Path;

use anyhow::{anyhow, bail};
use plotters::prelude::*;
use stratus_cost::compare::Comparison;

const SIZE: (u32, u32) = (900, 560);

/// Refuses a chart path that is not .svg before anything is computed or written.
///
/// # Errors
/// A message saying why, and what to do instead for .png.
pub fn check_path(path: &Path) -> anyhow::Result<()> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("svg") => Ok(()),
        Some(ext) if ext.eq_ignore_ascii_case("png") => bail!(
            "PNG charts are not supported: drawing text into a bitmap needs a font file that \
             this machine may not have; write {} with a .svg extension and convert it if \
             needed (e.g. rsvg-convert -o chart.png chart.svg)",
            path.display()
        ),
        _ => bail!("the chart {} must be an .svg file", path.display()),
    }
}

/// Draws `result` to `path` (SVG).
///
/// # Errors
/// The file cannot be written.
pub fn draw(path: &Path, result: &Comparison, source: &str) -> anyhow::Result<()> {
    let fleet = &result.always_on;
    let even = result.break_even.utilisation;
    // Show full utilisation, and the break-even when it lies a little beyond it.
    let x_max = if even.is_finite() && even > 0.8 {
        (even * 1.25).min(10.0)
    } else {
        1.0
    };
    let serverless_at = |utilisation: f64| {
        if even > 0.0 && even.is_finite() {
            fleet.usd * utilisation / even
        } else {
            0.0
        }
    };
    let y_max = (serverless_at(x_max).max(fleet.usd) * 1.1).max(f64::MIN_POSITIVE);

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(drawing)?;
    let caption = format!(
        "Serverless vs always-on ({} x {}): {source}",
        fleet.count, fleet.instance
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max * 100.0, 0.0..y_max)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("mean utilisation of the always-on fleet's servers (%)")
        .y_desc(format!(
            "USD over the {:.0} h period",
            result.trace.period_hours
        ))
        .x_label_formatter(&|value| format!("{value:.0}"))
        .y_label_formatter(&|value| format!("{value:.2}"))
        .draw()
        .map_err(drawing)?;

    // Serverless cost is linear in the load: two points draw it without pixel-rounding jags.
    let serverless_line = [(0.0, 0.0), (x_max * 100.0, serverless_at(x_max))];
    chart
        .draw_series(LineSeries::new(serverless_line, BLUE.stroke_width(2)))
        .map_err(drawing)?
        .label(format!(
            "serverless ({} MB, {} ms billed)",
            result.workload.memory_mb, result.workload.billed_ms
        ))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            [(0.0, fleet.usd), (x_max * 100.0, fleet.usd)],
            RED.stroke_width(2),
        ))
        .map_err(drawing)?
        .label(format!("always-on {} x {}", fleet.count, fleet.instance))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    if even.is_finite() && even <= x_max {
        chart
            .draw_series(LineSeries::new(
                [(even * 100.0, 0.0), (even * 100.0, y_max)],
                BLACK.mix(0.5),
            ))
            .map_err(drawing)?
            .label(format!("break-even {:.1} %", even * 100.0))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));
    }
    let here = (fleet.mean_utilisation * 100.0, result.serverless.usd);
    chart
        .draw_series(std::iter::once(Circle::new(here, 6, GREEN.filled())))
        .map_err(drawing)?
        .label(format!(
            "this traffic: {:.1} % utilisation",
            fleet.mean_utilisation * 100.0
        ))
        .legend(|(x, y)| Circle::new((x + 10, y), 5, GREEN.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(drawing)?;
    root.present().map_err(drawing)?;
    Ok(())
}

fn drawing(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the chart: {error}")
}
