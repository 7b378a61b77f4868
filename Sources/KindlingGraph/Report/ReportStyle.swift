// The report's look (lesson: reports). Plain CSS, inlined into the page so
// the report needs nothing from the network. It avoids `<` and `&` so the
// page stays well-formed XML.

/// The style sheet of the training report.
enum ReportStyle {
    /// The CSS inlined into the page's `<style>` element.
    static let css = """
    * { box-sizing: border-box; }
    body { margin: 0; background: #f3f4f6; color: #111827;
           font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 40px; }
    header, section { background: #ffffff; border-radius: 12px; padding: 22px 26px; margin-bottom: 22px;
                      box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08); }
    h1 { margin: 0; font-size: 28px; }
    h2 { margin: 0 0 12px; font-size: 20px; }
    .subtitle { margin: 2px 0 18px; color: #6b7280; }
    .caption, .note, footer { color: #4b5563; font-size: 14px; margin: 0 0 14px; }
    .note { font-style: italic; }
    footer { text-align: center; }
    a { color: #2563eb; }

    .cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 18px; }
    .card { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px 16px; }
    .card .label { font-size: 12px; color: #6b7280; text-transform: uppercase; letter-spacing: 0.05em; }
    .card .value { font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
    .card .detail { font-size: 13px; color: #6b7280; min-height: 1.5em; }
    .card.highlight { background: #eff6ff; border-color: #bfdbfe; }
    .card.highlight .value { color: #1d4ed8; }

    .facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 24px; margin: 0; }
    .facts div { display: flex; gap: 10px; border-bottom: 1px solid #f3f4f6; padding: 3px 0; }
    .facts dt { color: #6b7280; min-width: 7.5em; }
    .facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }

    .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; margin-bottom: 16px; }
    .charts svg { width: 100%; height: auto; border: 1px solid #e5e7eb; border-radius: 8px; }

    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    th, td { padding: 5px 10px; }
    .epochs th { text-align: right; border-bottom: 2px solid #e5e7eb; font-weight: 600; color: #374151; }
    .epochs td { text-align: right; border-bottom: 1px solid #f3f4f6; }
    .epochs tr.best td { font-weight: 700; color: #1d4ed8; }

    .graph { max-height: 900px; overflow: auto; border: 1px solid #e5e7eb; border-radius: 8px;
             padding: 12px; text-align: center; background: #ffffff; }
    .graph img { max-width: 100%; height: auto; }

    .confusion { width: 100%; table-layout: fixed; font-size: 14px; }
    .confusion th { font-weight: 600; color: #374151; font-size: 13px; line-height: 1.25; }
    .confusion th.corner { width: 9.5em; color: #6b7280; font-weight: 500; vertical-align: bottom; }
    .confusion th.axis { color: #6b7280; font-weight: 500; }
    .confusion th.predicted { vertical-align: bottom; padding: 4px 2px; overflow-wrap: anywhere; }
    .confusion th.actual, .confusion tfoot th { text-align: right; padding-right: 12px; }
    .confusion td { text-align: center; padding: 9px 2px; border: 2px solid #ffffff; }
    .confusion td.class-accuracy, .confusion td.overall { font-weight: 600; }
    .confusion tfoot td, .confusion tfoot th { color: #6b7280; font-size: 13px; border-top: 2px solid #e5e7eb; }
    .confusion tfoot td.overall { color: #1d4ed8; }

    .samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(98px, 1fr)); gap: 8px; }
    .sample { margin: 0; padding: 6px 2px; border: 3px solid #e5e7eb; border-radius: 8px;
              background: #f9fafb; text-align: center; }
    .sample.wrong { border-color: #dc2626; background: #fef2f2; }
    .sample img { display: block; width: 84px; height: 84px; margin: 0 auto 4px; image-rendering: pixelated; }
    .sample figcaption { font-size: 11.5px; line-height: 1.3; }
    .sample .index { display: block; color: #9ca3af; font-size: 11px; }
    .sample .label { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
                     font-weight: 600; color: #15803d; }
    .sample.wrong .label { color: #b91c1c; }
    .sample .truth { display: block; color: #374151; font-size: 11px; letter-spacing: -0.01em; }

    @media (max-width: 820px) {
      .cards { grid-template-columns: repeat(2, 1fr); }
      .facts, .charts { grid-template-columns: 1fr; }
      .confusion { font-size: 12px; }
    }
    """
}
