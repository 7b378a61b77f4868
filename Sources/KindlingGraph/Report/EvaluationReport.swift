// The report's evaluation part on its own, for weights trained earlier
// (`kindling eval --weights W --report DIR`): the test accuracy, the
// confusion matrix and sample predictions, without curves (there was no run).

import Foundation

extension TrainingReport {
    /// The evaluation part as one self-contained page: a header naming the
    /// weights file, then the same confusion matrix and sample images as the
    /// full report.
    public func evaluationHTML(weights: String) -> String {
        let accuracy = confusionMatrix.accuracy.map { NumberText.percent($0) } ?? "—"
        return """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Evaluation: \(Markup.escape(history.modelName))</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <main>
        <header id="summary">
        <h1>Evaluation: \(Markup.escape(history.modelName))</h1>
        <p class="subtitle">\(Markup.escape(weights)) · \(Markup.escape(history.dataset)) · \(predictions.count) test examples · \(Markup.escape(dateText))</p>
        <div class="cards">
        \(card("Test accuracy", accuracy, detail: "\(confusionMatrix.correct) of \(confusionMatrix.total) right", highlight: true))
        \(card("Parameters", NumberText.grouped(history.parameterCount), detail: history.modelName))
        </div>
        </header>
        \(confusionSection())
        \(samplesSection())
        <footer>Made by Kindling on \(Markup.escape(dateText)).</footer>
        </main>
        </body>
        </html>

        """
    }

    /// Writes `evaluation.html` into `directory` (created if needed),
    /// atomically, and returns its path.
    @discardableResult
    public func writeEvaluation(to directory: String, weights: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("evaluation.html")
        try writeAtomically(Data(evaluationHTML(weights: weights).utf8), to: path)
        return path
    }
}

extension ConfusionMatrix {
    /// The matrix as a text table for a terminal: one row per true class,
    /// one column per predicted class (numbered as the rows), the diagonal
    /// in brackets, and each class's accuracy at the end of its row.
    ///
    ///                     0     1  …   accuracy
    ///     0 T-shirt/top [850]   3  …   85.0%
    public func text(classNames: [String]) -> String {
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : "class \(c)" }
        let label = (0..<classCount).map { "\($0) \(name($0))" }
        let labelWidth = (label.map(\.count).max() ?? 0) + 1
        let cellWidth = max(String(counts.joined().max() ?? 0).count + 3, 5)  // room for "[", "]" and a space
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = [String(repeating: " ", count: labelWidth) + (0..<classCount).map { pad("\($0)", cellWidth) }.joined()
                     + "   accuracy"]
        for a in 0..<classCount {
            let cells = (0..<classCount).map { p in pad(a == p ? "[\(counts[a][p])]" : "\(counts[a][p]) ", cellWidth) }
            let recall = accuracy(ofClass: a).map { String(format: "%6.1f%%", $0 * 100) } ?? "      —"
            lines.append(label[a] + String(repeating: " ", count: labelWidth - label[a].count) + cells.joined() + "   " + recall)
        }
        lines.append("rows: true class, columns: predicted class")
        return lines.joined(separator: "\n")
    }
}
