// The report's HTML, section by section (lesson: reports).
//
// Each function below returns one piece of the page as a string. The markup
// is also well-formed XML (every tag closed, every attribute quoted, only the
// five XML character references), so tests can check it with an XML parser.

import Foundation

extension TrainingReport {
    /// The whole report as one self-contained HTML page.
    public func html() -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Training report: \(Markup.escape(history.modelName))</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <main>
        \(headerSection())
        \(curvesSection())
        \(graphSection())
        \(activationsSection())
        \(confusionSection())
        \(samplesSection())
        <footer>Made by Kindling on \(Markup.escape(dateText)).</footer>
        </main>
        </body>
        </html>

        """
    }

    /// The report's date, e.g. "2025-06-01 14:03".
    var dateText: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    // MARK: Header

    /// The title, the headline numbers and the run's settings.
    func headerSection() -> String {
        """
        <header id="summary">
        <h1>Training report: \(Markup.escape(history.modelName))</h1>
        <p class="subtitle">\(Markup.escape(history.dataset)) · \(predictions.count) test examples · \(Markup.escape(dateText))</p>
        \(summaryCards())
        \(factsList())
        </header>
        """
    }

    /// Four cards: final accuracy, best accuracy, epochs and time.
    func summaryCards() -> String {
        let best = history.bestEpoch
        let cards = [
            card("Final test accuracy", history.finalAccuracy.map { NumberText.percent($0) } ?? "—",
                 detail: history.epochs.last.map { "after epoch \($0.number)" } ?? "no epochs recorded", highlight: true),
            card("Best test accuracy", best.map { NumberText.percent($0.testAccuracy) } ?? "—",
                 detail: best.map { "at epoch \($0.number)" } ?? ""),
            card("Epochs", "\(history.epochs.count)",
                 detail: "final loss " + (history.epochs.last.map { NumberText.fixed($0.trainLoss, 4) } ?? "—")),
            card("Training time", NumberText.duration(history.totalSeconds),
                 detail: history.epochs.isEmpty ? "" : NumberText.duration(history.totalSeconds / Double(history.epochs.count)) + " per epoch"),
        ]
        return "<div class=\"cards\">\n" + cards.joined(separator: "\n") + "\n</div>"
    }

    /// One headline number with a label above and a detail below.
    func card(_ label: String, _ value: String, detail: String, highlight: Bool = false) -> String {
        "<div class=\"card\(highlight ? " highlight" : "")\"><div class=\"label\">\(Markup.escape(label))</div>"
            + "<div class=\"value\">\(Markup.escape(value))</div><div class=\"detail\">\(Markup.escape(detail))</div></div>"
    }

    /// The run's settings as a two-column list of name and value.
    func factsList() -> String {
        let facts = [
            ("Model", history.modelName),
            ("Parameters", NumberText.grouped(history.parameterCount)),
            ("Optimizer", history.optimizer),
            ("Learning rate", history.learningRate),
            ("Batch size", "\(history.batchSize)"),
            ("Seed", "\(history.seed)"),
        ]
        let items = facts.map { "<div><dt>\(Markup.escape($0.0))</dt><dd>\(Markup.escape($0.1))</dd></div>" }
        return "<dl class=\"facts\">\n" + items.joined(separator: "\n") + "\n</dl>"
    }

    // MARK: Learning curves

    /// The loss and accuracy charts side by side, then the numbers in a table.
    func curvesSection() -> String {
        """
        <section id="curves">
        <h2>Learning curves</h2>
        <div class="charts">
        \(lossChart.svg())
        \(accuracyChart.svg())
        </div>
        \(epochTable())
        </section>
        """
    }

    /// One row per epoch: loss, accuracy, time. The best accuracy is marked.
    func epochTable() -> String {
        guard !history.epochs.isEmpty else { return "<p class=\"note\">No epochs were recorded.</p>" }
        let bestNumber = history.bestEpoch?.number
        let rows = history.epochs.map { e in
            "<tr\(e.number == bestNumber ? " class=\"best\"" : "")><td>\(e.number)</td>"
                + "<td>\(NumberText.fixed(e.trainLoss, 4))</td><td>\(NumberText.percent(e.testAccuracy))</td>"
                + "<td>\(NumberText.duration(e.seconds))</td></tr>"
        }
        return """
        <table class="epochs">
        <thead><tr><th>epoch</th><th>train loss</th><th>test accuracy</th><th>time</th></tr></thead>
        <tbody>
        \(rows.joined(separator: "\n"))
        </tbody>
        </table>
        """
    }

    // MARK: Model graph

    /// The model's graph, embedded as an image, or a note that there is none.
    func graphSection() -> String {
        guard let graphSVG else {
            return """
            <section id="graph">
            <h2>Model graph</h2>
            <p class="note">No graph was drawn for this run.</p>
            </section>
            """
        }
        let source = "data:image/svg+xml;base64," + Data(graphSVG.utf8).base64EncodedString()
        return """
        <section id="graph">
        <h2>Model graph</h2>
        <p class="caption">The autograd graph of the model. Also saved as <a href="graph.svg">graph.svg</a>.</p>
        <div class="graph"><img src="\(source)" alt="The autograd graph of \(Markup.escape(history.modelName))"/></div>
        </section>
        """
    }

    // MARK: Activations

    /// Each layer's output statistics on a test batch (lesson 12): a chart and a
    /// table, or nothing when the model is not a `Sequential`.
    func activationsSection() -> String {
        guard let activations, let chart = activationChart else { return "" }
        let rows = activations.map { a in
            "<tr><td>\(a.index + 1)</td><td>\(Markup.escape(a.layer))</td><td>\(Markup.escape("\(a.shape)"))</td>"
                + "<td>\(Markup.escape(String(format: "%.4g", a.mean)))</td><td>\(Markup.escape(String(format: "%.4g", a.std)))</td></tr>"
        }
        return """
        <section id="activations">
        <h2>Activations, layer by layer</h2>
        <p class="caption">The mean and standard deviation of each layer's output for the first \(min(256, predictions.count)) test images, in evaluation mode. A spread that stays within a power of ten or so from layer to layer is healthy; one that grows or shrinks steadily is exploding or vanishing. Also saved as <a href="activations.svg">activations.svg</a>.</p>
        <div class="charts">
        \(chart.svg())
        </div>
        <table class="epochs">
        <thead><tr><th>layer</th><th>type</th><th>output shape</th><th>mean</th><th>std</th></tr></thead>
        <tbody>
        \(rows.joined(separator: "\n"))
        </tbody>
        </table>
        </section>
        """
    }

    // MARK: Confusion matrix

    /// The confusion matrix as a table: true classes down, predicted classes
    /// across, each cell shaded by the share of its row.
    func confusionSection() -> String {
        let matrix = confusionMatrix
        guard matrix.total > 0 else {
            return "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n<p class=\"note\">The test set is empty.</p>\n</section>"
        }
        let classes = 0..<matrix.classCount
        let header = classes.map { "<th class=\"predicted\">\(Markup.escape(name(ofClass: $0)))</th>" }.joined()
        let rows = classes.map { confusionRow($0, of: matrix) }.joined(separator: "\n")
        let totals = classes.map { p in "<td>\(classes.reduce(0) { $0 + matrix[actual: $1, predicted: p] })</td>" }.joined()
        return """
        <section id="confusion">
        <h2>Confusion matrix</h2>
        <p class="caption">Each row is a true class, each column the class the model predicted; a cell counts the test images that fell there. Blue cells (the diagonal) are right, red cells are mistakes; the darker a cell, the larger its share of the row.</p>
        <table class="confusion">
        <thead>
        <tr><th class="corner" rowspan="2">true class ↓</th><th class="axis" colspan="\(matrix.classCount)">predicted class →</th><th class="corner" rowspan="2">class accuracy</th></tr>
        <tr>\(header)</tr>
        </thead>
        <tbody>
        \(rows)
        </tbody>
        <tfoot>
        <tr><th>column total</th>\(totals)<td class="overall">\(matrix.accuracy.map { NumberText.percent($0) } ?? "—")</td></tr>
        </tfoot>
        </table>
        </section>
        """
    }

    /// One true class's row: its name, a shaded cell per predicted class, its accuracy.
    func confusionRow(_ actual: Int, of matrix: ConfusionMatrix) -> String {
        let rowTotal = matrix.examples(ofClass: actual)
        let cells = (0..<matrix.classCount).map { predicted -> String in
            let count = matrix[actual: actual, predicted: predicted]
            let share = rowTotal == 0 ? 0 : Double(count) / Double(rowTotal)
            return "<td style=\"\(cellStyle(share: share, correct: actual == predicted))\" "
                + "title=\"\(Markup.escape("\(name(ofClass: actual)) predicted as \(name(ofClass: predicted)): \(count)"))\">\(count)</td>"
        }.joined()
        let accuracy = matrix.accuracy(ofClass: actual).map { NumberText.percent($0, decimals: 1) } ?? "—"
        return "<tr><th class=\"actual\">\(Markup.escape(name(ofClass: actual)))</th>\(cells)<td class=\"class-accuracy\">\(accuracy)</td></tr>"
    }

    /// A cell's colours: blue on the diagonal, red off it, opacity growing with
    /// the square root of its share of the row, so that small mistake counts
    /// still show. Dark cells get white text.
    func cellStyle(share: Double, correct: Bool) -> String {
        guard share > 0 else { return "color: #9ca3af" }
        let alpha = share.squareRoot()
        let rgb = correct ? "37, 99, 235" : "220, 38, 38"
        return "background: rgba(\(rgb), \(NumberText.fixed(alpha, 3))); color: \(alpha > 0.55 ? "#ffffff" : "#111827")"
    }

    // MARK: Test images

    /// A grid of test images labelled with the model's answers; mistakes get a
    /// red border and both labels.
    func samplesSection() -> String {
        guard let samples else {
            return "<section id=\"samples\">\n<h2>Test images</h2>\n<p class=\"note\">The test inputs are not grayscale images, so none are shown.</p>\n</section>"
        }
        let mistakes = samples.filter { !$0.isCorrect }.count
        return """
        <section id="samples">
        <h2>Test images</h2>
        <p class="caption">The first \(min(30, samples.count)) test images, then later ones the model got wrong — \(mistakes) of these \(samples.count) are mistakes (red border: predicted class, then the true one).</p>
        <div class="samples">
        \(samples.map(sampleTile).joined(separator: "\n"))
        </div>
        </section>
        """
    }

    /// One test image with its caption.
    func sampleTile(_ sample: SampleImage) -> String {
        let predicted = Markup.escape(name(ofClass: sample.predicted))
        let actual = Markup.escape(name(ofClass: sample.actual))
        let caption = sample.isCorrect
            ? "<span class=\"label\">✓ \(predicted)</span>"
            : "<span class=\"label\">✗ \(predicted)</span><span class=\"truth\">true: \(actual)</span>"
        let alt = "test image \(sample.index): \(actual), predicted \(predicted)"
        return "<figure class=\"sample\(sample.isCorrect ? "" : " wrong")\">"
            + "<img src=\"\(sample.bitmap.dataURI)\" width=\"84\" height=\"84\" alt=\"\(alt)\"/>"
            + "<figcaption><span class=\"index\">#\(sample.index)</span>\(caption)</figcaption></figure>"
    }
}
