// The report of a character model's training run (lessons 13–14): the three
// losses that matter side by side — the counted bigram baseline and the
// trained model on the held-out text, in nats per character — the loss
// curves, the model's graph, and text the model wrote.

import Foundation

/// Everything a text training run produced, and the page made from it.
public struct TextTrainingReport {
    /// One measurement during training.
    public struct Checkpoint: Sendable, Equatable, Codable {
        /// Optimizer steps done.
        public var step: Int
        /// The running (smoothed) training loss, nats per character.
        public var trainLoss: Double
        /// The validation loss estimated on a fixed slice of the held-out text.
        public var validationEstimate: Double
        /// Seconds since training began.
        public var seconds: Double

        public init(step: Int, trainLoss: Double, validationEstimate: Double, seconds: Double) {
            self.step = step
            self.trainLoss = trainLoss
            self.validationEstimate = validationEstimate
            self.seconds = seconds
        }
    }

    /// "gpt", "charlstm".
    public var modelName: String
    /// Trainable numbers in the model.
    public var parameterCount: Int
    /// The run's settings, as (name, value) pairs shown in order.
    public var settings: [(String, String)]
    /// The bigram baseline's loss on the whole validation split.
    public var bigramLoss: Double
    /// The trained model's loss on the whole validation split.
    public var validationLoss: Double
    /// The measurements, in step order.
    public var checkpoints: [Checkpoint]
    /// Lines the trained model wrote, and how they were sampled.
    public var samples: [String]
    /// "temperature 0.8, top-k 20".
    public var samplingNote: String
    /// One training step's graph as SVG, if drawn.
    public var graphSVG: String?
    /// When the report was made.
    public var date = Date()

    public init(modelName: String, parameterCount: Int, settings: [(String, String)], bigramLoss: Double,
                validationLoss: Double, checkpoints: [Checkpoint], samples: [String], samplingNote: String,
                graphSVG: String? = nil) {
        self.modelName = modelName
        self.parameterCount = parameterCount
        self.settings = settings
        self.bigramLoss = bigramLoss
        self.validationLoss = validationLoss
        self.checkpoints = checkpoints
        self.samples = samples
        self.samplingNote = samplingNote
        self.graphSVG = graphSVG
    }

    /// The training loss at each checkpoint.
    var trainChart: LineChart {
        LineChart(title: "Training loss (smoothed)", xLabel: "checkpoint (\(stepsPerCheckpoint))",
                  yLabel: "nats per character", values: checkpoints.map(\.trainLoss), colour: "#dc2626")
    }

    /// The validation estimate at each checkpoint.
    var validationChart: LineChart {
        LineChart(title: "Validation loss (estimate); bigram baseline \(NumberText.fixed(bigramLoss, 3))",
                  xLabel: "checkpoint (\(stepsPerCheckpoint))", yLabel: "nats per character",
                  values: checkpoints.map(\.validationEstimate), colour: "#2563eb")
    }

    /// "every 150 steps", from the first two checkpoints.
    var stepsPerCheckpoint: String {
        checkpoints.count > 1 ? "every \(checkpoints[1].step - checkpoints[0].step) steps" : "steps"
    }

    /// The whole report as one self-contained HTML page.
    public func html() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let ratio = validationLoss / bigramLoss
        let seconds = checkpoints.last?.seconds ?? 0
        let cards = [
            card("Validation loss", NumberText.fixed(validationLoss, 4), "nats per character, whole held-out split", true),
            card("Bigram baseline", NumberText.fixed(bigramLoss, 4), "counted on the training split"),
            card("Ratio to the baseline", NumberText.fixed(ratio, 3), "lower is better"),
            card("Training time", NumberText.duration(seconds), "\(checkpoints.last?.step ?? 0) steps"),
        ]
        let facts = ([("Model", modelName), ("Parameters", NumberText.grouped(parameterCount))] + settings)
            .map { "<dt>\(Markup.escape($0.0))</dt><dd>\(Markup.escape($0.1))</dd>" }.joined(separator: "\n")
        let graph = graphSVG.map { _ in
            """
            <section id="graph">
            <h2>One training step, layer by layer</h2>
            <p><a href="graph.svg"><img src="graph.svg" alt="the graph of one training step" style="max-width:100%"/></a></p>
            </section>
            """
        } ?? ""
        return """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Training report: \(Markup.escape(modelName))</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <main>
        <header id="summary">
        <h1>Training report: \(Markup.escape(modelName))</h1>
        <p class="subtitle">fortunes, characters · \(Markup.escape(formatter.string(from: date)))</p>
        <div class="cards">
        \(cards.joined(separator: "\n"))
        </div>
        <dl class="facts">
        \(facts)
        </dl>
        </header>
        <section id="curves">
        <h2>Losses</h2>
        <div class="charts">
        <img src="loss.svg" alt="training loss per checkpoint"/>
        <img src="validation.svg" alt="validation loss per checkpoint"/>
        </div>
        </section>
        \(graph)
        <section id="samples">
        <h2>What it writes</h2>
        <p>\(samples.count) lines sampled from the trained model (\(Markup.escape(samplingNote))):</p>
        <pre>\(Markup.escape(samples.joined(separator: "\n")))</pre>
        </section>
        <footer>Made by Kindling.</footer>
        </main>
        </body>
        </html>

        """
    }

    func card(_ label: String, _ value: String, _ detail: String, _ highlight: Bool = false) -> String {
        "<div class=\"card\(highlight ? " highlight" : "")\"><div class=\"label\">\(Markup.escape(label))</div>"
            + "<div class=\"value\">\(Markup.escape(value))</div><div class=\"detail\">\(Markup.escape(detail))</div></div>"
    }

    /// Writes index.html, loss.svg, validation.svg, graph.svg (if drawn) and
    /// checkpoints.json into `directory`, each atomically, the page last.
    /// Returns the page's path.
    public func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files: [(String, String)] = [
            ("loss.svg", trainChart.svg()), ("validation.svg", validationChart.svg()),
            ("checkpoints.json", String(decoding: try encoder.encode(checkpoints), as: UTF8.self)),
        ]
        if let graphSVG { files.append(("graph.svg", graphSVG)) }
        files.append(("index.html", html()))  // last, so the page never points at files not yet there
        for (name, contents) in files {
            try writeAtomically(Data(contents.utf8), to: (directory as NSString).appendingPathComponent(name))
        }
        return (directory as NSString).appendingPathComponent("index.html")
    }
}
