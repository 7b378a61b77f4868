// The training report: one HTML page about a finished run (lesson: reports).
//
//     try TrainingReport.write(to: "runs/mlp", history: history, model: net, test: test,
//                              classNames: FashionMNIST.classNames, graphSVG: svg)
//
// writes runs/mlp/index.html — open it in any browser — plus the charts as
// loss.svg and accuracy.svg, the model graph as graph.svg and the numbers as
// history.json. The page is self-contained: styles, charts and pictures are
// all inside it, so it can be mailed or archived on its own.

import Foundation
import Kindling
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything a training report shows, gathered once, ready to be written out.
///
/// Making one runs the model over the test set (see `Predictions`); `html()`
/// and `write(to:)` then only format what was gathered.
public struct TrainingReport {
    /// The run's settings and per-epoch numbers.
    public var history: TrainingHistory
    /// The model's answer for every test example.
    public var predictions: Predictions
    /// The name of each class, by label. Labels past the end are called "class k".
    public var classNames: [String]
    /// The model's graph as an SVG document, or `nil` if none was drawn.
    public var graphSVG: String?
    /// When the report was made.
    public var date: Date
    /// The test images shown, or `nil` when the inputs are not grayscale images.
    var samples: [SampleImage]?
    /// The mean and standard deviation of each layer's output on a test batch,
    /// in evaluation mode (lesson 12), or `nil` when the model is not a `Sequential`.
    public var activations: [ActivationStatistics]?

    /// Gathers a report: evaluates `model` on `test` (in eval mode, under
    /// `noGrad`) and picks the sample images — the first 30 test examples,
    /// then up to 10 later ones the model got wrong. `activations`, when
    /// given, adds a section of layer-by-layer statistics (see `measureActivations`).
    public init(history: TrainingHistory, model: Module, test: any Dataset, classNames: [String],
                graphSVG: String?, activations: [ActivationStatistics]? = nil, date: Date = Date()) {
        let predictions = Predictions(model: model, dataset: test)
        let shown = SampleImages.choose(from: predictions)
        self.init(history: history, predictions: predictions, classNames: classNames, graphSVG: graphSVG,
                  samples: SampleImages.load(shown, from: test, predictions: predictions), date: date)
        self.activations = activations
    }

    /// Each layer's output statistics on the first 256 examples of `test`, in
    /// evaluation mode (the mode is restored afterwards), by
    /// `activationStatistics` (lesson 12); `nil` unless `model` is a
    /// `Sequential` and `test` has examples.
    public static func measureActivations(of model: Module, on test: any Dataset) -> [ActivationStatistics]? {
        guard let sequential = model as? Sequential, test.count > 0 else { return nil }
        let inputs = test.batch(Array(0..<min(256, test.count))).inputs
        let wasTraining = sequential.isTraining
        sequential.eval()
        defer { if wasTraining { sequential.train() } }
        return activationStatistics(of: sequential, on: inputs)
    }

    /// A report from predictions made elsewhere, with the given sample images.
    init(history: TrainingHistory, predictions: Predictions, classNames: [String], graphSVG: String?,
         samples: [SampleImage]?, date: Date = Date()) {
        self.history = history
        self.predictions = predictions
        self.classNames = classNames
        self.graphSVG = graphSVG
        self.samples = samples
        self.date = date
    }

    /// Gathers a report and writes it into `directory` (created if needed);
    /// returns the path of its `index.html`. See `write(to:)`.
    @discardableResult
    public static func write(to directory: String, history: TrainingHistory, model: Module, test: any Dataset,
                             classNames: [String], graphSVG: String?,
                             activations: [ActivationStatistics]? = nil) throws -> String {
        try TrainingReport(history: history, model: model, test: test, classNames: classNames, graphSVG: graphSVG,
                           activations: activations)
            .write(to: directory)
    }

    /// Writes the report into `directory` (created if needed) and returns the
    /// path of its `index.html`. Alongside go `loss.svg`, `accuracy.svg`,
    /// `history.json` and, when there is a graph, `graph.svg`. Each file is
    /// written whole or not at all: to a temporary name first, then renamed.
    @discardableResult
    public func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [(name: String, contents: String)] = [
            ("loss.svg", lossChart.svg()),
            ("accuracy.svg", accuracyChart.svg()),
            ("history.json", try historyJSON()),
        ]
        if let graphSVG { files.append(("graph.svg", graphSVG)) }
        if let chart = activationChart { files.append(("activations.svg", chart.svg())) }
        files.append(("index.html", html()))  // last, so the page never points at files not yet there
        for file in files {
            try writeAtomically(Data(file.contents.utf8), to: (directory as NSString).appendingPathComponent(file.name))
        }
        return (directory as NSString).appendingPathComponent("index.html")
    }

    // MARK: What the page is built from

    /// The confusion matrix of the test predictions, one row and column per class.
    public var confusionMatrix: ConfusionMatrix {
        ConfusionMatrix(predictions, classCount: max(classNames.count, 1))
    }

    /// The name of class `c`.
    func name(ofClass c: Int) -> String {
        c < classNames.count ? classNames[c] : "class \(c)"
    }

    /// Training loss per epoch.
    var lossChart: LineChart {
        LineChart(title: "Training loss", yLabel: "mean cross-entropy",
                  values: history.epochs.map(\.trainLoss), colour: "#dc2626")
    }

    /// Test accuracy per epoch, in percent.
    var accuracyChart: LineChart {
        LineChart(title: "Test accuracy", yLabel: "accuracy (%)",
                  values: history.epochs.map { $0.testAccuracy * 100 }, colour: "#2563eb",
                  limits: 0...100, valueText: { NumberText.fixed($0, 2) + "%" })
    }

    /// The standard deviation of each layer's output, or `nil` without statistics.
    var activationChart: ActivationChart? {
        activations.map {
            ActivationChart(title: "Activations of the trained model, layer by layer", xLabel: "layer (position in the model, from 1)",
                            series: [ActivationChart.Series(name: history.modelName, statistics: $0)])
        }
    }

    /// The history as pretty-printed JSON, for other tools.
    func historyJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(history), as: UTF8.self)
    }
}

/// Why a report file could not be written.
public struct TrainingReportError: Error, CustomStringConvertible {
    /// The file that was being written.
    public let path: String
    /// What went wrong, from the operating system.
    public let reason: String

    /// "could not write PATH: REASON".
    public var description: String { "could not write \(path): \(reason)" }
}

/// Writes `data` to `path` so that readers see the old file or the new one,
/// never half of it: write a temporary file in the same directory, then
/// `rename(2)` it over `path` — a rename within one file system is atomic.
func writeAtomically(_ data: Data, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let temporary = (directory as NSString).appendingPathComponent(".\(name).\(UUID().uuidString).tmp")
    try data.write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: temporary)
        throw TrainingReportError(path: path, reason: reason)
    }
}
