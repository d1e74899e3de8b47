//! Plain text tables: text columns left-aligned, numeric columns right-aligned.

#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        Self { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.to_vec());
    }

    /// A table whose columns are known only at run time.
    pub fn with_header(header: &[&str]) -> Self {
        Self { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut w = vec![0usize; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        // A column is numeric when every body cell starts like a number.
        let looks_numeric = |c: &str| {
            c.is_empty() || c.starts_with(|ch: char| ch.is_ascii_digit() || ch == '-' || ch == '+' || ch == '.')
        };
        let numeric: Vec<bool> =
            (0..n).map(|i| i > 0 && self.rows.iter().all(|r| r.get(i).is_none_or(|c| looks_numeric(c)))).collect();
        let line = |r: &Vec<String>| {
            let cells: Vec<String> = (0..n)
                .map(|i| {
                    let c = r.get(i).map_or("", String::as_str);
                    // Padded by hand: `format!`'s width is limited to 65,535, and a cell
                    // (a long citation, a long name) may be wider.
                    let pad = " ".repeat(w[i].saturating_sub(c.chars().count()));
                    if numeric[i] { format!("{pad}{c}") } else { format!("{c}{pad}") }
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        };
        let mut out = line(&self.header);
        out.push('\n');
        out.push_str(&w.iter().map(|&x| "-".repeat(x)).collect::<Vec<_>>().join("  "));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_takes_any_width() {
        let mut t = Table::new(["name", "value"]);
        t.row(["a".into(), "1.5".into()]);
        t.row(["long name".into(), "10".into()]);
        assert_eq!(t.render(), "name       value\n---------  -----\na            1.5\nlong name     10\n");
        // Wider than fmt's width limit of 65,535: no panic, the cell whole.
        let wide = "x".repeat(70_000);
        let mut t = Table::new(["source", "n"]);
        t.row([wide.clone(), "1".into()]);
        t.row(["short".into(), "2".into()]);
        let text = t.render();
        assert!(text.contains(&wide));
        assert!(text.lines().nth(3).unwrap().starts_with("short"));
    }
}
