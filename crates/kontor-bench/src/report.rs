//! What a run reports: a table for people, JSON for machines, and an SVG
//! plot of latency over time.

use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use crate::stats::{Percentiles, Second};
use crate::sys::CpuUse;

/// The result of one run.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The exact parameters, as given.
    pub parameters: serde_json::Value,
    /// Connected clients.
    pub clients: usize,
    /// Conversations seeded.
    pub conversations: usize,
    /// Seconds measured (after warm-up).
    pub seconds: f64,
    /// Messages acknowledged per second.
    pub accepted_per_second: f64,
    /// Message frames delivered per second.
    pub delivered_per_second: f64,
    /// Totals over the whole run (warm-up included).
    pub totals: Totals,
    /// Send to arrival at each recipient, after warm-up.
    pub delivery_latency: Option<Percentiles>,
    /// Send to HTTP acknowledgement.
    pub ack_latency: Option<Percentiles>,
    /// Per-second series.
    pub timeline: Vec<Second>,
    /// CPU during the measured window.
    pub cpu: Option<CpuUse>,
    /// Server CPU milliseconds per acknowledged message.
    pub server_cpu_ms_per_message: Option<f64>,
    /// Server resident memory before clients connected, MiB.
    pub server_rss_idle_mib: Option<f64>,
    /// Server resident memory at the end, MiB.
    pub server_rss_end_mib: Option<f64>,
    /// Server memory per connection (idle scenario), KiB.
    pub server_kib_per_connection: Option<f64>,
    /// Spawn to first successful `/readyz`, milliseconds.
    pub startup_ms: Option<f64>,
    /// The bare fan-out probe's figures in the same run (channel).
    pub probe_delivered_per_second: Option<f64>,
    /// Kontor's fan-out as a share of the probe's.
    pub fanout_vs_probe: Option<f64>,
    /// Others' load made the figures unreliable.
    pub void: bool,
    /// Anything that went wrong or limited the run.
    pub notes: Vec<String>,
}

/// Counts over the whole run.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Totals {
    /// Acknowledged sends.
    pub accepted: u64,
    /// Failed sends.
    pub send_errors: u64,
    /// Sends skipped because too many were in flight.
    pub send_dropped: u64,
    /// Deliveries owed.
    pub expected: u64,
    /// Deliveries seen.
    pub delivered: u64,
    /// Deliveries owed but never seen.
    pub missing: u64,
    /// Connections lost during the run.
    pub disconnects: u64,
}

impl Report {
    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let mut row = |k: &str, v: String| out.push_str(&format!("{k:<34} {v}\n"));
        row("scenario", self.scenario.clone());
        row(
            "clients / conversations",
            format!("{} / {}", self.clients, self.conversations),
        );
        row("measured seconds", format!("{:.1}", self.seconds));
        row(
            "messages accepted / s",
            format!("{:.0}", self.accepted_per_second),
        );
        row(
            "deliveries / s",
            format!("{:.0}", self.delivered_per_second),
        );
        if let Some(l) = &self.delivery_latency {
            row(
                "delivery latency ms p50/95/99/99.9/max",
                format!(
                    "{:.2} / {:.2} / {:.2} / {:.2} / {:.2}",
                    l.p50, l.p95, l.p99, l.p999, l.max
                ),
            );
        }
        if let Some(l) = &self.ack_latency {
            row(
                "ack latency ms p50/99/max",
                format!("{:.2} / {:.2} / {:.2}", l.p50, l.p99, l.max),
            );
        }
        let t = &self.totals;
        row(
            "accepted / errors / dropped",
            format!("{} / {} / {}", t.accepted, t.send_errors, t.send_dropped),
        );
        row(
            "deliveries expected / seen / missing",
            format!("{} / {} / {}", t.expected, t.delivered, t.missing),
        );
        row("disconnects", t.disconnects.to_string());
        if let Some(c) = &self.cpu {
            let f = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.2}"));
            row(
                "cores: server / generator / others",
                format!(
                    "{} / {} / {}",
                    f(c.server_cores),
                    f(c.generator_cores),
                    f(c.other_cores)
                ),
            );
            if c.database_cores.is_some() {
                row("cores: PostgreSQL", f(c.database_cores));
            }
        }
        if let Some(v) = self.server_cpu_ms_per_message {
            row("server CPU ms per message", format!("{v:.3}"));
        }
        if let Some(v) = self.server_rss_idle_mib {
            row("server RSS idle MiB", format!("{v:.1}"));
        }
        if let Some(v) = self.server_rss_end_mib {
            row("server RSS end MiB", format!("{v:.1}"));
        }
        if let Some(v) = self.server_kib_per_connection {
            row("server KiB per connection", format!("{v:.2}"));
        }
        if let Some(v) = self.startup_ms {
            row("start-up to ready ms", format!("{v:.1}"));
        }
        if let Some(v) = self.probe_delivered_per_second {
            row("bare probe deliveries / s", format!("{v:.0}"));
        }
        if let Some(v) = self.fanout_vs_probe {
            row("Kontor fan-out vs probe", format!("{:.1} %", v * 100.0));
        }
        row("void (others' load)", self.void.to_string());
        for n in &self.notes {
            row("note", n.clone());
        }
        out
    }

    /// Write `<name>.json` and, if there is a timeline, `<name>.svg`.
    pub fn write(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_vec_pretty(self)?,
        )?;
        if self.timeline.iter().any(|s| s.deliveries > 0) {
            self.plot(&dir.join(format!("{name}.svg")))?;
        }
        Ok(())
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let points: Vec<&Second> = self.timeline.iter().filter(|s| s.deliveries > 0).collect();
        let x_max = points.last().map_or(1, |s| s.second + 1) as f64;
        let y_max = points
            .iter()
            .map(|s| s.latency.p999)
            .fold(1.0_f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Kontor {}: delivery latency over time", self.scenario),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("seconds after warm-up")
            .y_desc("latency (ms)")
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        type Pick = fn(&Percentiles) -> f64;
        let series: [(&str, RGBColor, Pick); 3] = [
            ("p50", BLUE, |p| p.p50),
            ("p99", RED, |p| p.p99),
            ("p99.9", BLACK, |p| p.p999),
        ];
        for (label, color, pick) in series {
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|s| (s.second as f64, pick(&s.latency))),
                    color,
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }
}

/// A Markdown table with one row per saved report.
pub fn summary(files: &[std::path::PathBuf]) -> anyhow::Result<String> {
    let mut out = String::from(
        "| run | clients | msgs/s | deliveries/s | p50 ms | p99 ms | p99.9 ms | server cores | server CPU ms/msg | missing | disconnects | void |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f)?)?;
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let num = |p: &str, digits: usize| {
            v.pointer(p)
                .and_then(serde_json::Value::as_f64)
                .map_or("–".to_owned(), |x| format!("{x:.digits$}"))
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            num("/clients", 0),
            num("/accepted_per_second", 0),
            num("/delivered_per_second", 0),
            num("/delivery_latency/p50", 2),
            num("/delivery_latency/p99", 2),
            num("/delivery_latency/p999", 2),
            num("/cpu/server_cores", 2),
            num("/server_cpu_ms_per_message", 3),
            num("/totals/missing", 0),
            num("/totals/disconnects", 0),
            v.get("void")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
        ));
    }
    Ok(out)
}
