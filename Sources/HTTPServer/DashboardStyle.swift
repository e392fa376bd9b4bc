/// The dashboard's style sheet, served at `/dashboard.css`. It uses the system's fonts, so
/// nothing loads from elsewhere.
enum DashboardStyle {
    static let source = """
        :root {
          color-scheme: light dark;
          --text: #1b1f24;
          --muted: #57606a;
          --background: #ffffff;
          --surface: #f6f8fa;
          --border: #d0d7de;
          --accent: #0a58ca;
          --accent-text: #ffffff;
          --focus: #c2410c;
          --error: #b42318;
          --pending: #7a4d00;
          --processing: #0b5cad;
          --success: #1a7f37;
          --retry: #6f42c1;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif;
          font-size: 100%;
          line-height: 1.5;
        }

        @media (prefers-color-scheme: dark) {
          :root {
            --text: #e6edf3;
            --muted: #9da7b3;
            --background: #0d1117;
            --surface: #161b22;
            --border: #30363d;
            --accent: #4c8dff;
            --accent-text: #0d1117;
            --focus: #fb923c;
            --error: #ff7b72;
            --pending: #e3b341;
            --processing: #79c0ff;
            --success: #56d364;
            --retry: #d2a8ff;
          }
        }

        * { box-sizing: border-box; }

        body {
          margin: 0 auto;
          max-width: 80rem;
          padding: 0 1rem 3rem;
          color: var(--text);
          background: var(--background);
        }

        a { color: var(--accent); }

        :focus-visible {
          outline: 3px solid var(--focus);
          outline-offset: 2px;
        }

        main:focus, h2:focus { outline: none; }

        .skip-link {
          position: absolute;
          left: -10000px;
          top: 0.5rem;
          padding: 0.5rem 1rem;
          background: var(--background);
          border: 2px solid var(--focus);
          z-index: 10;
        }

        .skip-link:focus { left: 1rem; }

        .visually-hidden {
          position: absolute;
          width: 1px;
          height: 1px;
          overflow: hidden;
          clip-path: inset(50%);
          white-space: nowrap;
        }

        .site-header {
          display: flex;
          flex-wrap: wrap;
          align-items: center;
          gap: 0.5rem 1.5rem;
          padding: 1rem 0;
          border-bottom: 1px solid var(--border);
        }

        .site-header h1 { margin: 0; font-size: 1.5rem; }
        .site-header h1 a { color: inherit; text-decoration: none; }
        .site-header h1 a:hover { text-decoration: underline; }

        .connection { margin: 0; color: var(--muted); flex: 1; }
        .connection[data-state="live"]::before { content: "● "; color: var(--success); }
        .connection[data-state="reconnecting"]::before,
        .connection[data-state="streamFailed"]::before,
        .connection[data-state="stopped"]::before { content: "● "; color: var(--error); }

        h2 { font-size: 1.25rem; margin: 1.5rem 0 0.75rem; }
        h3 { font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }

        .panel {
          margin-top: 1rem;
          padding: 0.75rem 1rem 1rem;
          background: var(--surface);
          border: 1px solid var(--border);
          border-radius: 6px;
        }

        .panel h2 { margin-top: 0.25rem; }

        .counts {
          display: flex;
          flex-wrap: wrap;
          gap: 0.5rem;
          margin: 0 0 0.75rem;
          padding: 0;
          list-style: none;
        }

        .count {
          display: inline-flex;
          align-items: baseline;
          gap: 0.5rem;
          min-width: 9rem;
          padding: 0.5rem 0.75rem;
          border: 1px solid var(--border);
          border-left-width: 6px;
          border-radius: 6px;
          background: var(--background);
          color: var(--text);
          text-decoration: none;
        }

        .count:hover { border-color: var(--accent); }
        .count-state { font-weight: 600; font-size: 0.85rem; letter-spacing: 0.02em; }
        .count-value { font-size: 1.5rem; font-variant-numeric: tabular-nums; margin-left: auto; }

        .count.state-pending { border-left-color: var(--pending); }
        .count.state-processing { border-left-color: var(--processing); }
        .count.state-success { border-left-color: var(--success); }
        .count.state-error { border-left-color: var(--error); }
        .count.state-retry { border-left-color: var(--retry); }

        button {
          font: inherit;
          padding: 0.4rem 0.9rem;
          border: 1px solid var(--accent);
          border-radius: 6px;
          background: var(--accent);
          color: var(--accent-text);
          cursor: pointer;
        }

        button.secondary {
          background: transparent;
          color: var(--accent);
        }

        button.small { padding: 0.1rem 0.6rem; font-size: 0.9rem; }

        button[aria-disabled="true"] {
          opacity: 0.55;
          cursor: not-allowed;
        }

        input, select {
          font: inherit;
          padding: 0.35rem 0.5rem;
          border: 1px solid var(--muted);
          border-radius: 6px;
          background: var(--background);
          color: var(--text);
          max-width: 100%;
        }

        label { display: block; font-weight: 600; font-size: 0.9rem; margin-bottom: 0.2rem; }

        #token-form { display: flex; flex-wrap: wrap; align-items: end; gap: 0.5rem; }
        #token-form label { flex-basis: 100%; }
        #token-input { min-width: 20rem; }

        .filters {
          display: flex;
          flex-wrap: wrap;
          align-items: end;
          gap: 0.75rem;
          margin-bottom: 0.5rem;
        }

        .filters .grow { flex: 1 1 18rem; }
        .filters .grow input { width: 100%; }
        .filters .buttons { display: flex; gap: 0.5rem; }

        .status { color: var(--muted); min-height: 1.5em; margin: 0.25rem 0; }
        .hint { color: var(--muted); margin: 0.25rem 0; }

        .notice { margin: 0.75rem 0 0; min-height: 1.5em; }
        .notice:empty, #counts-status:empty { min-height: 0; margin: 0; }
        .notice[data-kind="error"] { color: var(--error); font-weight: 600; }

        .table-wrap { overflow-x: auto; }

        table { width: 100%; border-collapse: collapse; }
        th, td {
          padding: 0.45rem 0.6rem;
          border-bottom: 1px solid var(--border);
          text-align: left;
          vertical-align: top;
        }
        th { font-size: 0.85rem; color: var(--muted); }
        td.cell-recipients, td.cell-subject { overflow-wrap: anywhere; }
        td.cell-created { white-space: nowrap; }
        .number { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:hover { background: var(--surface); }

        .badge {
          display: inline-block;
          padding: 0 0.5rem;
          border: 1px solid currentColor;
          border-radius: 999px;
          font-size: 0.8rem;
          font-weight: 600;
          letter-spacing: 0.02em;
          white-space: nowrap;
        }

        .badge.state-pending { color: var(--pending); }
        .badge.state-processing { color: var(--processing); }
        .badge.state-success { color: var(--success); }
        .badge.state-error { color: var(--error); }
        .badge.state-retry { color: var(--retry); }

        #load-more { margin-top: 0.75rem; }

        .actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; }

        .columns {
          display: grid;
          grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
          gap: 0 2rem;
        }

        .fields {
          display: grid;
          grid-template-columns: max-content 1fr;
          gap: 0.3rem 1rem;
          margin: 0;
        }

        .fields dt { color: var(--muted); }
        .fields dd { margin: 0; overflow-wrap: anywhere; }
        .fields ul { margin: 0; padding-left: 1.2rem; }

        pre {
          margin: 0;
          padding: 0.5rem;
          background: var(--surface);
          border: 1px solid var(--border);
          border-radius: 6px;
          white-space: pre-wrap;
          overflow-wrap: anywhere;
          max-height: 24rem;
          overflow: auto;
        }

        code { font-size: 0.95em; }

        #preview {
          display: block;
          width: 100%;
          height: 28rem;
          border: 1px solid var(--border);
          border-radius: 6px;
          background: #ffffff;
          resize: vertical;
        }

        #preview[hidden] { display: none; }

        details { margin-top: 1.25rem; }
        summary { cursor: pointer; font-weight: 600; }
        details pre { margin-top: 0.5rem; }

        [hidden] { display: none !important; }

        @media (prefers-reduced-motion: no-preference) {
          .badge { transition: color 0.2s; }
        }

        """
}
