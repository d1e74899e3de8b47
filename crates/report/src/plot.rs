//! SVG plots of a chip run, written by hand (no plotting dependency): spike raster,
//! energy breakdown, per-core load over the chip grid, link traffic, latency per
//! timestep; and the self-contained HTML report that holds them.
//!
//! Every plot is a pure function of counts the simulator produced, so the same run
//! gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use neuromap_hw::{ChipId, Machine, Topology};
use neuromap_ir::Network;
use neuromap_sim::RunResult;

/// Colours of populations (Tableau 10).
const PALETTE: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A canvas of `w` × `h` pixels with a title.
struct Svg {
    w: f64,
    h: f64,
    body: String,
}

impl Svg {
    fn new(w: f64, h: f64, title: &str) -> Self {
        let mut s = Self { w, h, body: String::new() };
        s.text(w / 2.0, 18.0, 14.0, "middle", title);
        s
    }

    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, t: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}">{}</text>"#,
            esc(t)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: &str) {
        let _ = write!(self.body, r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}""#);
        if tip.is_empty() {
            self.body.push_str("/>\n");
        } else {
            let _ = writeln!(self.body, "><title>{}</title></rect>", esc(tip));
        }
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" stroke-width="{width:.2}"/>"#
        );
    }

    /// Axes of a plot area with ticks: x from `x0..x1`, y from `y0..y1`.
    fn axes(&mut self, area: Area, xr: (f64, f64), yr: (f64, f64), xlabel: &str, ylabel: &str) {
        let Area { left, top, width, height } = area;
        self.line(left, top + height, left + width, top + height, "#333", 1.0);
        self.line(left, top, left, top + height, "#333", 1.0);
        for i in 0..=4 {
            let f = f64::from(i) / 4.0;
            let x = left + f * width;
            let y = top + height - f * height;
            self.line(x, top + height, x, top + height + 4.0, "#333", 1.0);
            self.text(x, top + height + 16.0, 10.0, "middle", &tick(xr.0 + f * (xr.1 - xr.0)));
            self.line(left - 4.0, y, left, y, "#333", 1.0);
            self.text(left - 6.0, y + 3.0, 10.0, "end", &tick(yr.0 + f * (yr.1 - yr.0)));
        }
        self.text(left + width / 2.0, top + height + 32.0, 11.0, "middle", xlabel);
        let _ = writeln!(
            self.body,
            r#"<text x="14" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"#,
            top + height / 2.0,
            top + height / 2.0,
            esc(ylabel)
        );
    }

    fn finish(self) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n{}</svg>\n",
            self.body,
            w = self.w,
            h = self.h
        )
    }
}

#[derive(Clone, Copy)]
struct Area {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-2 {
        format!("{v:.1e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A colour from white-yellow (0) to dark red (1).
fn heat(f: f64) -> String {
    let f = f.clamp(0.0, 1.0);
    let stops = [(255.0, 255.0, 204.0), (253.0, 141.0, 60.0), (189.0, 0.0, 38.0)];
    let (a, b, g) = if f < 0.5 { (stops[0], stops[1], f * 2.0) } else { (stops[1], stops[2], (f - 0.5) * 2.0) };
    let mix = |x: f64, y: f64| (x + (y - x) * g).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Spike raster: neuron (populations stacked) against time, at most `max_points`
/// spikes drawn (every n-th when there are more, said in the title).
pub fn raster(net: &Network, r: &RunResult, max_points: usize) -> String {
    let mut svg = Svg::new(760.0, 420.0, "spike raster");
    let area = Area { left: 70.0, top: 34.0, width: 560.0, height: 330.0 };
    let recorded: Vec<usize> = (0..net.populations().len()).filter(|&p| r.recorded[p]).collect();
    let total_neurons: u64 = recorded.iter().map(|&p| u64::from(net.populations()[p].size)).sum();
    let total_spikes: usize = recorded.iter().map(|&p| r.spikes[p].steps.len()).sum();
    let every = total_spikes.div_ceil(max_points.max(1)).max(1);
    let t_ms = f64::from(r.steps) * net.dt;
    svg.axes(area, (0.0, t_ms), (0.0, total_neurons as f64), "time (ms)", "neuron");
    let mut base = 0u64;
    let mut n = 0usize;
    for (k, &p) in recorded.iter().enumerate() {
        let pop = &net.populations()[p];
        let colour = PALETTE[k % PALETTE.len()];
        let _ = writeln!(svg.body, r#"<g fill="{colour}">"#);
        for (&t, &i) in r.spikes[p].steps.iter().zip(&r.spikes[p].neurons) {
            n += 1;
            if !n.is_multiple_of(every) {
                continue;
            }
            let x = area.left + (f64::from(t) + 0.5) * net.dt / t_ms.max(f64::MIN_POSITIVE) * area.width;
            let y = area.top + area.height - (base + u64::from(i)) as f64 / total_neurons.max(1) as f64 * area.height;
            let _ = writeln!(svg.body, r#"<rect x="{:.2}" y="{:.2}" width="1.2" height="1.2"/>"#, x, y - 1.2);
        }
        svg.body.push_str("</g>\n");
        let ly = area.top + 14.0 * k as f64;
        svg.rect(area.left + area.width + 12.0, ly, 10.0, 10.0, colour, "");
        svg.text(area.left + area.width + 26.0, ly + 9.0, 11.0, "start", &pop.name);
        base += u64::from(pop.size);
    }
    if every > 1 {
        svg.text(area.left + area.width / 2.0, 408.0, 10.0, "middle", &format!("one spike in {every} drawn"));
    }
    svg.finish()
}

/// Energy by line of the ledger as horizontal bars (J, machine-allocated basis).
pub fn energy(l: &neuromap_cost::Ledger) -> String {
    let total = l.total(neuromap_cost::Basis::Allocated);
    let parts: Vec<(String, f64)> =
        l.lines.iter().map(|x| (format!("{}: {}", x.component, x.what), x.joules)).collect();
    let height = 60.0 + 36.0 * parts.len() as f64;
    let mut svg = Svg::new(720.0, height, &format!("energy by component ({total:.4e} J in all)"));
    let max = parts.iter().map(|p| p.1).fold(f64::MIN_POSITIVE, f64::max);
    for (i, (name, j)) in parts.iter().enumerate() {
        let y = 44.0 + 36.0 * i as f64;
        svg.text(230.0, y + 16.0, 11.0, "end", name);
        let w = 330.0 * j / max;
        svg.rect(240.0, y, w.max(0.5), 24.0, PALETTE[i % PALETTE.len()], &format!("{name}: {j:.4e} J"));
        let share = 100.0 * j / total.max(f64::MIN_POSITIVE);
        svg.text(240.0 + w + 6.0, y + 16.0, 11.0, "start", &format!("{j:.3e} J ({share:.1} %)"));
    }
    svg.finish()
}

/// The chips a plot shows: the bounding box of those in `used`, with their size.
fn window(m: &Machine, used: &[ChipId]) -> (u32, u32, u32, u32) {
    let xs = used.iter().map(|c| m.chip(*c).x);
    let ys = used.iter().map(|c| m.chip(*c).y);
    let (x0, x1) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(0));
    let (y0, y1) = (ys.clone().min().unwrap_or(0), ys.max().unwrap_or(0));
    (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
}

/// Per-core load over the chip grid: one square per chip (north up), split into its
/// cores; each core coloured by `value / full` (e.g. busiest step's cycles over the
/// tick). `cores` lists (chip, core, value) of the cores in use.
pub fn core_load(m: &Machine, cores_per_chip: u32, cores: &[(ChipId, u32, f64)], full: f64, what: &str) -> String {
    let used: Vec<ChipId> = cores.iter().map(|c| c.0).collect();
    let (x0, y0, w, h) = window(m, &used);
    let cell = (560.0 / f64::from(w.max(h))).min(120.0);
    let cols = (f64::from(cores_per_chip).sqrt().ceil() as u32).max(1);
    let rows = cores_per_chip.div_ceil(cols).max(1);
    let max = cores.iter().map(|c| c.2).fold(full, f64::max);
    let width = 100.0 + cell * f64::from(w) + 150.0;
    let height = 60.0 + cell * f64::from(h) + 40.0;
    let mut svg = Svg::new(width.max(420.0), height, &format!("per-core load: {what}"));
    let by: BTreeMap<(ChipId, u32), f64> = cores.iter().map(|&(c, k, v)| ((c, k), v)).collect();
    for id in m.chip_ids() {
        let c = m.chip(id);
        if c.x < x0 || c.y < y0 || c.x >= x0 + w || c.y >= y0 + h {
            continue;
        }
        let left = 60.0 + cell * f64::from(c.x - x0);
        let top = 40.0 + cell * f64::from(y0 + h - 1 - c.y);
        svg.rect(left + 1.0, top + 1.0, cell - 2.0, cell - 2.0, if c.alive { "#eeeeee" } else { "#555555" }, "");
        let (cw, ch) = ((cell - 6.0) / f64::from(cols), (cell - 6.0) / f64::from(rows));
        for k in 0..cores_per_chip {
            let (cx, cy) = (left + 3.0 + cw * f64::from(k % cols), top + 3.0 + ch * f64::from(k / cols));
            match by.get(&(id, k)) {
                Some(v) => svg.rect(
                    cx + 0.5,
                    cy + 0.5,
                    (cw - 1.0).max(0.5),
                    (ch - 1.0).max(0.5),
                    &heat(v / max),
                    &format!("chip ({}, {}) core {k}: {:.3} of {what}", c.x, c.y, v / full.max(f64::MIN_POSITIVE)),
                ),
                None => svg.rect(cx + 0.5, cy + 0.5, (cw - 1.0).max(0.5), (ch - 1.0).max(0.5), "#ffffff", ""),
            }
        }
        if cell >= 40.0 {
            svg.text(left + cell / 2.0, top + cell - 4.0, 9.0, "middle", &format!("({}, {})", c.x, c.y));
        }
    }
    legend(&mut svg, width.max(420.0) - 130.0, 50.0, 0.0, max / full.max(f64::MIN_POSITIVE), "× full");
    svg.finish()
}

fn legend(svg: &mut Svg, x: f64, y: f64, lo: f64, hi: f64, unit: &str) {
    for i in 0..10 {
        let f = f64::from(i) / 9.0;
        svg.rect(x, y + 14.0 * (9 - i) as f64, 14.0, 14.0, &heat(f), "");
    }
    svg.text(x + 20.0, y + 10.0, 10.0, "start", &format!("{} {unit}", tick(hi)));
    svg.text(x + 20.0, y + 140.0, 10.0, "start", &format!("{} {unit}", tick(lo)));
}

/// Link traffic over the chip grid: every link that carried packets, drawn from its
/// chip towards the neighbour, coloured and thickened by its packet count.
pub fn link_traffic(m: &Machine, links: &BTreeMap<(u32, u8), u64>, routers: &[u64]) -> String {
    let mut used: Vec<ChipId> =
        links.keys().flat_map(|&(c, d)| [Some(ChipId(c)), m.neighbour(ChipId(c), usize::from(d))]).flatten().collect();
    used.extend(routers.iter().enumerate().filter(|r| *r.1 > 0).map(|r| ChipId(r.0 as u32)));
    if used.is_empty() {
        used.push(ChipId(0));
    }
    let (x0, y0, w, h) = window(m, &used);
    let cell = (560.0 / f64::from(w.max(h))).min(120.0);
    let width = (100.0 + cell * f64::from(w) + 150.0).max(420.0);
    let height = 60.0 + cell * f64::from(h) + 40.0;
    let max = links.values().copied().max().unwrap_or(1).max(1) as f64;
    let mut svg = Svg::new(width, height, "link traffic (packets per link, both directions drawn apart)");
    let centre = |c: ChipId| {
        let ch = m.chip(c);
        (60.0 + cell * (f64::from(ch.x - x0) + 0.5), 40.0 + cell * (f64::from(y0 + h - 1 - ch.y) + 0.5))
    };
    let inside = |c: ChipId| {
        let ch = m.chip(c);
        ch.x >= x0 && ch.y >= y0 && ch.x < x0 + w && ch.y < y0 + h
    };
    for id in m.chip_ids().filter(|&c| inside(c)) {
        let (x, y) = centre(id);
        let r = (cell * 0.18).max(2.0);
        let passes = routers.get(id.index()).copied().unwrap_or(0);
        let fill = if m.chip(id).alive { "#dddddd" } else { "#555555" };
        let _ = writeln!(
            svg.body,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{fill}"><title>chip ({}, {}): {passes} router passes</title></circle>"#,
            m.chip(id).x,
            m.chip(id).y
        );
    }
    for (&(c, d), &n) in links {
        let from = ChipId(c);
        let Some(to) = m.neighbour(from, usize::from(d)) else { continue };
        if !inside(from) || !inside(to) {
            continue;
        }
        let (x1, y1) = centre(from);
        let (mut x2, mut y2) = centre(to);
        // Wrap-around links point off the grid: draw a stub in their direction.
        if m.topology == Topology::Hex || m.topology == Topology::Mesh {
            let (dx, dy) = (x2 - x1, y2 - y1);
            if dx.abs() > cell * 1.5 || dy.abs() > cell * 1.5 {
                let (ux, uy) = (dx.signum() * -0.4 * cell, dy.signum() * -0.4 * cell);
                x2 = x1 + ux;
                y2 = y1 + uy;
            }
        }
        // Offset each direction to its side of the line.
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ox, oy) = (-dy / len * 2.5, dx / len * 2.5);
        let f = n as f64 / max;
        let _ = writeln!(
            svg.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="{:.1}"><title>chip ({}, {}) {}: {n} packets</title></line>"#,
            x1 + ox,
            y1 + oy,
            x1 + dx * 0.8 + ox,
            y1 + dy * 0.8 + oy,
            heat(0.15 + 0.85 * f),
            1.0 + 4.0 * f,
            m.chip(from).x,
            m.chip(from).y,
            m.topology.link_name(usize::from(d))
        );
    }
    legend(&mut svg, width - 130.0, 50.0, 0.0, max, "packets");
    svg.finish()
}

/// Latency per timestep: the step's latency (later of the busiest core and the last
/// delivery) and the busiest core's work, against the tick.
pub fn latency(latency_s: &[f64], core_s: &[f64], tick_s: f64) -> String {
    let mut svg = Svg::new(760.0, 360.0, "latency per timestep");
    let area = Area { left: 70.0, top: 34.0, width: 560.0, height: 270.0 };
    let n = latency_s.len().max(1);
    let top = latency_s.iter().chain(core_s).copied().fold(tick_s, f64::max) * 1.05 * 1e6;
    svg.axes(area, (0.0, n as f64), (0.0, top), "timestep", "µs");
    let path = |v: &[f64]| {
        // At most ~2,000 points: the maximum of each bucket of steps.
        let per = v.len().div_ceil(2000).max(1);
        let mut d = String::new();
        for (i, chunk) in v.chunks(per).enumerate() {
            let m = chunk.iter().copied().fold(0.0, f64::max) * 1e6;
            let x = area.left + (i * per) as f64 / n as f64 * area.width;
            let y = area.top + area.height - m / top * area.height;
            let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
        }
        d
    };
    let ty = area.top + area.height - tick_s * 1e6 / top * area.height;
    let _ = writeln!(
        svg.body,
        r##"<line x1="{:.1}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#e15759" stroke-dasharray="6 4"/>"##,
        area.left,
        area.left + area.width
    );
    for (v, colour) in [(core_s, "#76b7b2"), (latency_s, "#4e79a7")] {
        if !v.is_empty() {
            let _ = writeln!(svg.body, r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="1.2"/>"#, path(v));
        }
    }
    let lx = area.left + area.width + 10.0;
    for (i, (colour, name)) in
        [("#4e79a7", "step latency"), ("#76b7b2", "busiest core"), ("#e15759", "tick (real time)")].iter().enumerate()
    {
        let y = area.top + 16.0 * i as f64;
        svg.rect(lx, y, 12.0, 3.0, colour, "");
        svg.text(lx + 16.0, y + 5.0, 10.0, "start", name);
    }
    svg.finish()
}

/// One self-contained HTML page: a title, text sections (preformatted) and figures
/// (inline SVG).
pub fn html(title: &str, texts: &[(&str, String)], figures: &[(&str, String)]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}\npre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 13px; }}\nfigure {{ margin: 1.5em 0; }}\nh2 {{ border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
    for (h, t) in texts {
        let _ = write!(out, "<h2>{}</h2>\n<pre>{}</pre>\n", esc(h), esc(t));
    }
    for (h, svg) in figures {
        let _ = write!(out, "<h2>{}</h2>\n<figure>\n{svg}</figure>\n", esc(h));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Bars with error bars (mean ± standard deviation), one per label, in order; a value
/// that is not a number (no mapped run) is left out and marked.
pub fn bars(title: &str, ylabel: &str, labels: &[String], mean: &[f64], sd: &[f64]) -> String {
    let n = labels.len().max(1);
    let width = (120.0 + 70.0 * n as f64).max(520.0);
    let mut svg = Svg::new(width, 400.0, title);
    let area = Area { left: 80.0, top: 34.0, width: width - 110.0, height: 230.0 };
    let hi = mean.iter().zip(sd).map(|(m, s)| m + s).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let lo = mean.iter().zip(sd).map(|(m, s)| m - s).filter(|v| v.is_finite()).fold(0.0, f64::min);
    let (lo, hi) = if hi - lo <= 0.0 { (lo, lo + 1.0) } else { (lo, hi + 0.05 * (hi - lo)) };
    svg.axes(area, (0.0, 0.0), (lo, hi), "", ylabel);
    // The x axis is categorical: hide the numeric ticks drawn by `axes`.
    svg.rect(area.left - 10.0, area.top + area.height + 5.0, area.width + 20.0, 14.0, "white", "");
    let y = |v: f64| area.top + area.height - (v - lo) / (hi - lo) * area.height;
    let slot = area.width / n as f64;
    for (i, label) in labels.iter().enumerate() {
        let x = area.left + slot * (i as f64 + 0.5);
        let (m, s) = (mean.get(i).copied().unwrap_or(f64::NAN), sd.get(i).copied().unwrap_or(0.0));
        if m.is_finite() {
            let (top, bottom) = (y(m.max(0.0)), y(m.min(0.0)));
            svg.rect(
                x - slot * 0.3,
                top,
                slot * 0.6,
                (bottom - top).max(0.5),
                PALETTE[0],
                &format!("{label}: {m:.4} ± {s:.4}"),
            );
            if s > 0.0 {
                svg.line(x, y(m - s), x, y(m + s), "#333", 1.2);
                svg.line(x - 5.0, y(m - s), x + 5.0, y(m - s), "#333", 1.2);
                svg.line(x - 5.0, y(m + s), x + 5.0, y(m + s), "#333", 1.2);
            }
        } else {
            svg.text(x, area.top + area.height - 6.0, 10.0, "middle", "n/a");
        }
        let ly = area.top + area.height + 14.0;
        let _ = writeln!(
            svg.body,
            r#"<text x="{x:.1}" y="{ly:.1}" font-size="10" text-anchor="end" transform="rotate(-35 {x:.1} {ly:.1})">{}</text>"#,
            esc(label)
        );
    }
    svg.finish()
}

/// Lines of `y` against `x`, one per named series (e.g. a network), each in its own
/// colour with its points marked.
pub fn lines(title: &str, xlabel: &str, ylabel: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
    let (w, h) = (640.0, 380.0);
    let mut svg = Svg::new(w, h, title);
    let area = Area { left: 80.0, top: 36.0, width: w - 230.0, height: h - 100.0 };
    let (xr, yr) = ranges(&all);
    svg.axes(area, xr, yr, xlabel, ylabel);
    let px = |x: f64| area.left + (x - xr.0) / (xr.1 - xr.0) * area.width;
    let py = |y: f64| area.top + area.height - (y - yr.0) / (yr.1 - yr.0) * area.height;
    for (k, (name, pts)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let mut d = String::new();
        for (i, &(x, y)) in pts.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, px(x), py(y));
            let _ = writeln!(
                svg.body,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {} = {}, {}</title></circle>"#,
                px(x),
                py(y),
                esc(name),
                esc(xlabel),
                tick(x),
                tick(y)
            );
        }
        let _ = writeln!(svg.body, r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#);
        let ly = area.top + 14.0 * k as f64 + 8.0;
        svg.rect(area.left + area.width + 14.0, ly - 8.0, 10.0, 10.0, colour, "");
        svg.text(area.left + area.width + 28.0, ly + 1.0, 11.0, "start", name);
    }
    svg.finish()
}

/// The x and y ranges of points, padded when flat.
fn ranges(pts: &[(f64, f64)]) -> ((f64, f64), (f64, f64)) {
    let span = |v: Vec<f64>| {
        let (a, b) =
            (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        if !a.is_finite() {
            (0.0, 1.0)
        } else if b > a {
            (a, b)
        } else {
            (a - a.abs().max(1e-30) * 0.5, a + a.abs().max(1e-30) * 0.5)
        }
    };
    (span(pts.iter().map(|p| p.0).collect()), span(pts.iter().map(|p| p.1).collect()))
}

/// One point of a Pareto plot: its coordinates, whether it is on the front, whether it
/// meets the constraints, and its label.
pub type ParetoPoint = (f64, f64, bool, bool, String);

/// Two metrics of every point: the front's points joined and filled, points that meet
/// the constraints in blue, the others grey.
pub fn pareto(title: &str, xlabel: &str, ylabel: &str, pts: &[ParetoPoint]) -> String {
    let (w, h) = (640.0, 420.0);
    let mut svg = Svg::new(w, h, title);
    let area = Area { left: 80.0, top: 36.0, width: w - 120.0, height: h - 100.0 };
    let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
    let (xr, yr) = ranges(&xy);
    svg.axes(area, xr, yr, xlabel, ylabel);
    let px = |x: f64| area.left + (x - xr.0) / (xr.1 - xr.0) * area.width;
    let py = |y: f64| area.top + area.height - (y - yr.0) / (yr.1 - yr.0) * area.height;
    let mut front: Vec<&ParetoPoint> = pts.iter().filter(|p| p.2).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut d = String::new();
    for (i, p) in front.iter().enumerate() {
        let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, px(p.0), py(p.1));
    }
    if !d.is_empty() {
        let _ = writeln!(svg.body, r##"<path d="{d}" fill="none" stroke="#e15759" stroke-width="1.5"/>"##);
    }
    for p in pts {
        let (fill, r) = match (p.2, p.3) {
            (true, _) => ("#e15759", 4.5),
            (false, true) => ("#4e79a7", 3.0),
            (false, false) => ("#bab0ac", 3.0),
        };
        let _ = writeln!(
            svg.body,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{fill}"><title>{}</title></circle>"#,
            px(p.0),
            py(p.1),
            esc(&p.4)
        );
    }
    svg.text(
        area.left + area.width,
        area.top - 6.0,
        10.0,
        "end",
        "red: the front; blue: meets the constraints; grey: does not",
    );
    svg.finish()
}

/// A sweep panel: its parameter, and (value, accuracy, energy) points.
pub type SweepPanel = (String, Vec<(f64, f64, f64)>);

/// A parameter sweep: one panel per parameter, accuracy (blue, left axis, 0–1) and
/// energy per inference (orange, scaled to the panel's largest value, given in its
/// label) against the parameter's values.
pub fn sweep(title: &str, panels: &[SweepPanel]) -> String {
    let cols = 2usize;
    let rows = panels.len().div_ceil(cols).max(1);
    let (pw, ph) = (380.0, 250.0);
    let mut svg = Svg::new(pw * cols as f64 + 20.0, ph * rows as f64 + 40.0, title);
    for (k, (name, pts)) in panels.iter().enumerate() {
        let (cx, cy) = ((k % cols) as f64 * pw + 10.0, (k / cols) as f64 * ph + 30.0);
        let area = Area { left: cx + 60.0, top: cy + 24.0, width: pw - 110.0, height: ph - 80.0 };
        let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let (x0, x1) =
            (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0 - 1.0, x0 + 1.0) };
        let emax = pts.iter().map(|p| p.2).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        svg.text(cx + pw / 2.0, cy + 14.0, 12.0, "middle", name);
        svg.axes(area, (x0, x1), (0.0, 1.0), name, "");
        let (lx, ly) = (cx + 20.0, area.top + area.height / 2.0);
        let _ = writeln!(
            svg.body,
            r#"<text x="{lx:.1}" y="{ly:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 {lx:.1} {ly:.1})">accuracy</text>"#
        );
        let px = |x: f64| area.left + (x - x0) / (x1 - x0) * area.width;
        let py = |y: f64| area.top + area.height - y * area.height;
        for (series, colour) in [(1usize, "#4e79a7"), (2usize, "#f28e2b")] {
            let mut d = String::new();
            for (i, p) in pts.iter().enumerate() {
                let y = if series == 1 { p.1 } else { p.2 / emax };
                let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, px(p.0), py(y));
                let _ =
                    writeln!(svg.body, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#, px(p.0), py(y));
            }
            let _ = writeln!(svg.body, r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#);
        }
        svg.text(
            area.left + area.width + 4.0,
            area.top + 10.0,
            9.0,
            "start",
            &format!("energy ({} J = top)", tick(emax)),
        );
    }
    svg.finish()
}

/// The figures of a chip run: raster, energy breakdown, per-core load, link traffic,
/// latency per step; each `(file name, title, SVG)`.
pub fn run_figures(
    net: &neuromap_ir::Network,
    model: &neuromap_hw::HwModel,
    mapping: &neuromap_compile::Mapping,
    chip: &neuromap_sim::chip::ChipRun,
    energy: Option<&neuromap_cost::Ledger>,
    steps: u32,
) -> Vec<(&'static str, &'static str, String)> {
    let c = &chip.counts;
    let hw = &mapping.hw;
    let mut out = vec![("raster.svg", "spike raster", raster(net, &chip.result, 50_000))];
    if let Some(e) = energy {
        out.push(("energy.svg", "energy breakdown", self::energy(e)));
    }
    // Per-core load: mean cycles per step over the tick where the model gives cycle
    // costs, else work (synaptic events + neuron updates) over the busiest core's. A
    // hybrid chip's tiles are not cores: they show no load here (their time is in the
    // ledger by part).
    let n = f64::from(steps.max(1));
    let slices = &mapping.partition.slices;
    let work = |s: usize| c.work(s);
    let on_core = |s: usize| slices.get(s).is_none_or(|x| x.part == 0);
    let (values, full, what): (Vec<f64>, f64, &str) = match (&c.timing, neuromap_sim::chip::CycleCost::of(hw)) {
        (Some(t), Some(cost)) => (
            (0..c.synaptic_events.len()).map(|s| if on_core(s) { work(s).cycles(&cost) / n } else { 0.0 }).collect(),
            t.budget_cycles,
            "mean cycles per step over the tick",
        ),
        _ => {
            let v: Vec<f64> = (0..c.synaptic_events.len())
                .map(|s| if on_core(s) { (c.synaptic_events[s] + c.neuron_updates[s]) as f64 } else { 0.0 })
                .collect();
            let max = v.iter().copied().fold(1.0, f64::max);
            (v, max, "synaptic events + neuron updates over the busiest core's")
        }
    };
    let cores: Vec<(neuromap_hw::ChipId, u32, f64)> = mapping
        .placement
        .core_of
        .iter()
        .zip(&values)
        .enumerate()
        .filter(|(s, _)| on_core(*s))
        .map(|(_, (&(chip, core), &v))| (chip, core, v))
        .collect();
    out.push(("core_load.svg", "per-core load", core_load(&model.machine, hw.cores, &cores, full, what)));
    out.push(("links.svg", "link traffic", link_traffic(&model.machine, &c.link_packets, &c.router_passes)));
    if let Some(t) = &c.timing {
        let core_s: Vec<f64> = t.critical_cycles.iter().map(|x| x / hw.clock_hz).collect();
        let tick = t.budget_cycles / hw.clock_hz;
        out.push(("latency.svg", "latency per timestep", latency(&t.latency_s(hw.clock_hz), &core_s, tick)));
    }
    out
}
