import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Kindling
import Testing
@testable import KindlingGraph

// MARK: Fixtures

/// 30 synthetic 28×28 grayscale images (a bright bar whose row depends on the
/// index) with labels 0, 1, …, 9, 0, 1, ….
private func tinyDataset(count: Int = 30) -> TensorDataset {
    var pixels = [Float](repeating: 0, count: count * 28 * 28)
    for i in 0..<count {
        for x in 0..<28 { pixels[i * 784 + (i % 28) * 28 + x] = Float(x) / 27 }
    }
    return TensorDataset(inputs: Tensor(pixels, shape: [count, 1, 28, 28]),
                         targets: Tensor((0..<count).map { Float($0 % 10) }))
}

/// A history of `epochs` made-up epochs: loss falling, accuracy rising.
private func sampleHistory(epochs: Int) -> TrainingHistory {
    var history = TrainingHistory(modelName: "tiny", parameterCount: 7850, optimizer: "sgd, momentum 0.9",
                                  learningRate: "0.05, cosine schedule", batchSize: 64, seed: 0)
    for e in 0..<epochs {
        history.append(trainLoss: 2.0 / Double(e + 1), testAccuracy: 0.5 + 0.05 * Double(e), seconds: 1.5)
    }
    return history
}

/// A "model" that answers whatever class its input's first pixel names:
/// an input starting with 3.0 is predicted as class 3. Its predictions are
/// therefore known in advance.
private final class FirstPixelOracle: Module {
    var sawTrainingMode: [Bool] = []

    override func forward(_ x: Tensor) -> Tensor {
        sawTrainingMode.append(isTraining)
        let n = x.shape[0], size = x.count / n
        let values = x.toArray()
        var logits = [Float](repeating: 0, count: n * 10)
        for i in 0..<n { logits[i * 10 + Int(values[i * size])] = 1 }
        return Tensor(logits, shape: [n, 10])
    }
}

/// 30 examples, labels `i % 10`; the first pixel of example i holds the class
/// the oracle will predict: right for i < 20, one class too high for i ≥ 20.
private func oracleDataset() -> (TensorDataset, predicted: [Int]) {
    let predicted = (0..<30).map { $0 < 20 ? $0 % 10 : ($0 % 10 + 1) % 10 }
    var pixels = [Float](repeating: 0, count: 30 * 784)
    for i in 0..<30 { pixels[i * 784] = Float(predicted[i]) }
    let dataset = TensorDataset(inputs: Tensor(pixels, shape: [30, 1, 28, 28]),
                                targets: Tensor((0..<30).map { Float($0 % 10) }))
    return (dataset, predicted)
}

/// A fresh empty directory under the temporary directory.
private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "kindling-report-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Collects the elements an XML parser meets.
private final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append((elementName, attributeDict))
    }
}

/// Parses `text` as XML; returns its elements, or records an issue and returns nil.
private func parseXML(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [(name: String, attributes: [String: String])]? {
    let parser = XMLParser(data: Data(text.utf8))
    let collector = ElementCollector()
    parser.delegate = collector
    guard parser.parse() else {
        Issue.record("not well-formed XML: \(String(describing: parser.parserError)) at line \(parser.lineNumber)",
                     sourceLocation: sourceLocation)
        return nil
    }
    return collector.elements
}

private func read(_ directory: String, _ name: String) throws -> String {
    try String(contentsOfFile: (directory as NSString).appendingPathComponent(name), encoding: .utf8)
}

// MARK: History

@Test func reportHistoryAppendsNumberedEpochs() {
    var history = sampleHistory(epochs: 0)
    #expect(history.finalAccuracy == nil && history.bestEpoch == nil)
    history.append(trainLoss: 1.0, testAccuracy: 0.7, seconds: 2)
    history.append(trainLoss: 0.8, testAccuracy: 0.9, seconds: 3)
    history.append(trainLoss: 0.7, testAccuracy: 0.9, seconds: 4)
    #expect(history.epochs.map(\.number) == [1, 2, 3])
    #expect(history.finalAccuracy == 0.9)
    #expect(history.bestEpoch?.number == 2)  // the earliest of a tie
    #expect(history.totalSeconds == 9)
}

// MARK: The whole report

@Test func reportWritesWellFormedPageWithAllSections() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let model = Sequential(Flatten(), Linear(784, 10))
    let index = try TrainingReport.write(to: directory, history: sampleHistory(epochs: 3), model: model,
                                         test: tinyDataset(), classNames: FashionMNIST.classNames, graphSVG: nil)
    #expect(index == (directory as NSString).appendingPathComponent("index.html"))
    #expect(model.isTraining)  // evaluation put it back into training mode

    let html = try read(directory, "index.html")
    let elements = try #require(parseXML(html))
    let sectionIDs = Set(elements.filter { ["header", "section"].contains($0.name) }.compactMap { $0.attributes["id"] })
    #expect(sectionIDs == ["summary", "curves", "graph", "confusion", "samples"])
    #expect(elements.filter { $0.name == "svg" }.count == 2)           // two charts inline
    #expect(elements.filter { $0.name == "figure" }.count == 30)       // every test image (there are only 30)
    #expect(elements.filter { $0.name == "img" }.allSatisfy { $0.attributes["src"]?.hasPrefix("data:image/bmp;base64,") == true })
    #expect(!html.contains("<script"))
    #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("))  // nothing fetched
    #expect(html.contains("No graph was drawn"))
    #expect(html.contains("Training report: tiny"))
    #expect(html.contains("7,850"))

    let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    #expect(files == ["accuracy.svg", "history.json", "index.html", "loss.svg"])  // no temporary files left
    let history = try JSONDecoder().decode(TrainingHistory.self, from: Data(try read(directory, "history.json").utf8))
    #expect(history == sampleHistory(epochs: 3))
}

@Test func reportEmbedsAndSavesTheGraph() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let graph = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"
    try TrainingReport.write(to: directory, history: sampleHistory(epochs: 1), model: Sequential(Flatten(), Linear(784, 10)),
                             test: tinyDataset(), classNames: FashionMNIST.classNames, graphSVG: graph)
    #expect(try read(directory, "graph.svg") == graph)
    let html = try read(directory, "index.html")
    #expect(html.contains("data:image/svg+xml;base64," + Data(graph.utf8).base64EncodedString()))
    #expect(!html.contains("No graph was drawn"))
}

@Test func reportOverwritesAnEarlierReport() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let model = Sequential(Flatten(), Linear(784, 10))
    try TrainingReport.write(to: directory, history: sampleHistory(epochs: 1), model: model,
                             test: tinyDataset(), classNames: FashionMNIST.classNames, graphSVG: nil)
    try TrainingReport.write(to: directory, history: sampleHistory(epochs: 4), model: model,
                             test: tinyDataset(), classNames: FashionMNIST.classNames, graphSVG: nil)
    let points = try #require(parseXML(try read(directory, "loss.svg"))).filter { $0.attributes["class"] == "point" }
    #expect(points.count == 4)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 4)
}

@Test func reportEscapesClassNames() throws {
    let names = ["<b>&\""] + (1..<10).map { "class'\($0)" }
    let report = TrainingReport(history: sampleHistory(epochs: 2), model: FirstPixelOracle(),
                                test: oracleDataset().0, classNames: names, graphSVG: nil)
    let html = report.html()
    #expect(html.contains("&lt;b&gt;&amp;&quot;"))
    #expect(html.contains("class&#39;1"))
    #expect(!html.contains("<b>"))
    let elements = try #require(parseXML(html))
    #expect(!elements.contains { $0.name == "b" })
}

// MARK: Charts

@Test(arguments: [1, 2, 7, 25])
func reportChartsAreSVGWithOnePointPerEpoch(epochs: Int) throws {
    let report = TrainingReport(history: sampleHistory(epochs: epochs), predictions: Predictions(predicted: [], actual: []),
                                classNames: FashionMNIST.classNames, graphSVG: nil, samples: nil)
    for chart in [report.lossChart, report.accuracyChart] {
        let elements = try #require(parseXML(chart.svg()))
        #expect(elements.first?.name == "svg")
        #expect(elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(elements.filter { $0.name == "circle" && $0.attributes["class"] == "point" }.count == epochs)
        #expect(elements.filter { $0.name == "polyline" }.count == (epochs > 1 ? 1 : 0))
        #expect(elements.filter { $0.name == "text" }.count >= 5)  // title, axis names, ticks
    }
}

@Test func reportChartPlacesOneEpochMidAxis() {
    let chart = LineChart(title: "t", yLabel: "y", values: [0.5])
    #expect(chart.x(ofEpoch: 1) == (chart.plotLeft + chart.plotRight) / 2)
    let scale = chart.yScale
    #expect(scale.lower < 0.5 && 0.5 < scale.upper)
    #expect(chart.xTicks == [1])
}

@Test func reportChartSkipsNonFiniteValuesAndHandlesNone() throws {
    let broken = LineChart(title: "t", yLabel: "y", values: [1, .nan, 0.5])
    #expect(try #require(parseXML(broken.svg())).filter { $0.name == "circle" }.count == 2)
    let empty = LineChart(title: "t", yLabel: "y", values: [])
    #expect(empty.svg().contains("no epochs recorded"))
    _ = try #require(parseXML(empty.svg()))
}

@Test func reportAxisScaleHasRoundTicks() {
    let scale = AxisScale.nice(covering: 0.23, 0.91)
    #expect(scale.step == 0.2)
    #expect(scale.ticks.map { ($0 * 10).rounded() / 10 } == [0.2, 0.4, 0.6, 0.8, 1.0])
    #expect(scale.decimals == 1)
    let percent = AxisScale.nice(covering: 81, 99.5, limits: 0...100)
    #expect(percent.upper == 100)
    #expect(AxisScale.niceStep(0.031) == 0.02 || AxisScale.niceStep(0.031) == 0.05)
    #expect(AxisScale.niceStep(6) == 5 && AxisScale.niceStep(8) == 10 && AxisScale.niceStep(1.2) == 1)
    #expect(LineChart(title: "t", yLabel: "y", values: Array(repeating: 1, count: 50)).xTicks == [1, 10, 20, 30, 40, 50])
}

// MARK: Confusion matrix

@Test func reportConfusionMatrixMatchesHandCount() {
    let (dataset, predicted) = oracleDataset()
    let oracle = FirstPixelOracle()
    let predictions = Predictions(model: oracle, dataset: dataset, batchSize: 7)
    #expect(predictions.predicted == predicted)
    #expect(predictions.actual == (0..<30).map { $0 % 10 })
    #expect(oracle.sawTrainingMode == [false, false, false, false, false])  // 5 batches, all in eval mode
    #expect(oracle.isTraining)

    let matrix = ConfusionMatrix(predictions, classCount: 10)
    // Every class: 2 examples right (i < 20), 1 taken for the next class (i ≥ 20).
    let expected = [
        [2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 2, 1, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 2, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 2, 1, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 2, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 2, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 2, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 2, 1, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 2, 1],
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    ]
    #expect(matrix.counts == expected)
    #expect(matrix.total == dataset.count)
    #expect(matrix.correct == 20)
    #expect(matrix.accuracy == 20.0 / 30.0)
    #expect(matrix.accuracy(ofClass: 4) == 2.0 / 3.0)
    #expect(matrix[actual: 9, predicted: 0] == 1)
}

@Test func reportConfusionMatrixAppearsInThePage() throws {
    let report = TrainingReport(history: sampleHistory(epochs: 1), model: FirstPixelOracle(),
                                test: oracleDataset().0, classNames: FashionMNIST.classNames, graphSVG: nil)
    let elements = try #require(parseXML(report.confusionSection()))
    let bodyCells = elements.filter { $0.name == "td" && $0.attributes["title"] != nil }
    #expect(bodyCells.count == 100)
    #expect(elements.filter { $0.name == "td" && $0.attributes["class"] == "class-accuracy" }.count == 10)
    #expect(report.confusionSection().contains("66.7%"))
}

@Test func reportConfusionMatrixGrowsForUnnamedClasses() {
    let matrix = ConfusionMatrix(Predictions(predicted: [0, 11], actual: [0, 2]), classCount: 10)
    #expect(matrix.classCount == 12)
    #expect(matrix.total == 2)
    #expect(matrix.accuracy(ofClass: 5) == nil)
}

// MARK: Sample images

@Test func reportChoosesFirstImagesThenLaterMistakes() {
    let actual = Array(repeating: 0, count: 100)
    let predicted = (0..<100).map { $0 % 3 == 0 ? 1 : 0 }  // every third one wrong
    let chosen = SampleImages.choose(from: Predictions(predicted: predicted, actual: actual))
    #expect(chosen == Array(0..<30) + [30, 33, 36, 39, 42, 45, 48, 51, 54, 57])
    #expect(SampleImages.choose(from: Predictions(predicted: [1, 0], actual: [0, 0])) == [0, 1])
}

@Test func reportMarksMisclassifiedImages() throws {
    let (dataset, _) = oracleDataset()
    let report = TrainingReport(history: sampleHistory(epochs: 1), model: FirstPixelOracle(),
                                test: dataset, classNames: FashionMNIST.classNames, graphSVG: nil)
    let elements = try #require(parseXML(report.samplesSection()))
    let figures = elements.filter { $0.name == "figure" }
    #expect(figures.count == 30)
    #expect(figures.filter { $0.attributes["class"] == "sample wrong" }.count == 10)
    #expect(report.samplesSection().contains("true: Ankle boot"))  // example 29: an ankle boot taken for a T-shirt
}

@Test func reportSkipsImagesForFlatInputs() {
    let flat = TensorDataset(inputs: Tensor.zeros([4, 784]), targets: Tensor([0, 1, 2, 3]))
    let report = TrainingReport(history: sampleHistory(epochs: 1), model: Sequential(Linear(784, 10)),
                                test: flat, classNames: FashionMNIST.classNames, graphSVG: nil)
    #expect(report.samples == nil)
    #expect(report.samplesSection().contains("not grayscale images"))
}

@Test func reportBitmapIsAValidBMP() {
    let pixels: [UInt8] = [0, 50, 100, 150, 200, 250]  // 3 wide, 2 high
    let bmp = GrayscaleBitmap(width: 3, height: 2, pixels: pixels).bmp
    let rowSize = 4  // 3 bytes padded to 4
    #expect(bmp.count == 14 + 40 + 1024 + rowSize * 2)
    #expect(Array(bmp[0..<2]) == Array("BM".utf8))
    func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bmp[at + $1]) << (8 * $1) } }
    #expect(u32(2) == bmp.count)
    #expect(u32(10) == 1078)
    #expect(u32(18) == 3 && u32(22) == 2)
    #expect(Array(bmp[1078..<1086]) == [150, 200, 250, 0, 0, 50, 100, 0])  // bottom row first
    #expect(Array(bmp[54 + 4 * 200..<54 + 4 * 201]) == [200, 200, 200, 0])  // palette entry 200 is grey 200
    let bright = GrayscaleBitmap(width: 2, height: 1, intensities: [-1, 2])
    #expect(bright.pixels == [0, 255])
}

@Test func reportEscapesMarkup() {
    #expect(Markup.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
    #expect(Markup.escape("T-shirt/top") == "T-shirt/top")
    #expect(Markup.escape("bell\u{7}") == "bell\u{FFFD}")
    #expect(NumberText.grouped(101770) == "101,770")
    #expect(NumberText.grouped(999) == "999")
    #expect(NumberText.duration(187) == "3 min 07 s")
}

// MARK: Activation statistics (lesson 12)

@Test func activationChartDrawsOneLinePerSeriesWithEscapedLabels() throws {
    let stats = { (stds: [Double]) in
        stds.enumerated().map { ActivationStatistics(index: $0.offset, layer: "Re<LU>", shape: [2, 3], mean: 0.5, std: $0.element) }
    }
    let chart = ActivationChart(title: "Spread & <size>", xLabel: "block \"k\"", series: [
        .init(name: "N(0, 1) <exploding>", statistics: stats([1, 10, 1e20])),
        .init(name: "a&b", statistics: stats([1, 0.1, 0])),  // a zero cannot go on a log axis: left out
        .init(name: "flat", statistics: stats([0.58, 0.58, 0.58])),
    ])
    let svg = chart.svg()
    let elements = try #require(parseXML(svg))
    #expect(elements.first?.name == "svg" && elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
    #expect(elements.filter { $0.name == "polyline" }.count == 3)
    #expect(elements.filter { $0.name == "circle" }.count == 8)
    #expect(elements.filter { $0.name == "polyline" }.map { $0.attributes["points"]?.split(separator: " ").count } == [3, 2, 3])
    #expect(svg.contains("Spread &amp; &lt;size&gt;") && svg.contains("N(0, 1) &lt;exploding&gt;") && svg.contains("a&amp;b"))
    #expect(!svg.contains("<LU>") && !svg.contains("<exploding>") && !svg.contains("\"k\""))
    // Every point inside the plot; 1e20 on the top decade line, 0.1 on its own.
    let ys = elements.filter { $0.name == "circle" }.compactMap { $0.attributes["cy"].flatMap(Double.init) }
    #expect(ys.allSatisfy { $0 >= chart.plotTop && $0 <= chart.plotBottom })
    #expect(chart.decades == -1...20)
}

@Test func reportWithActivationsHasTheirSectionAndFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let model = Sequential(Flatten(), Linear(784, 10), ReLU())
    let activations = try #require(TrainingReport.measureActivations(of: model, on: tinyDataset()))
    #expect(model.isTraining)  // measured in evaluation mode, then back
    #expect(activations.map(\.layer) == ["Flatten", "Linear", "ReLU"] && activations[0].shape == [30, 784])
    #expect(TrainingReport.measureActivations(of: Linear(784, 10), on: tinyDataset()) == nil)
    try TrainingReport.write(to: directory, history: sampleHistory(epochs: 2), model: model, test: tinyDataset(),
                             classNames: FashionMNIST.classNames, graphSVG: nil, activations: activations)
    let html = try read(directory, "index.html")
    let elements = try #require(parseXML(html))
    #expect(elements.contains { $0.name == "section" && $0.attributes["id"] == "activations" })
    #expect(elements.filter { $0.name == "svg" }.count == 3)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            == ["accuracy.svg", "activations.svg", "history.json", "index.html", "loss.svg"])
    #expect(try parseXML(read(directory, "activations.svg"))?.filter { $0.name == "polyline" }.count == 1)
}

// MARK: The evaluation part alone (`kindling eval --report`)

@Suite("Evaluation report")
struct EvaluationReportTests {
    @Test func thePageHoldsTheAccuracyTheMatrixAndTheSamples() throws {
        let (dataset, _) = oracleDataset()
        let report = TrainingReport(history: sampleHistory(epochs: 0), model: FirstPixelOracle(), test: dataset,
                                    classNames: FashionMNIST.classNames, graphSVG: nil)
        let html = report.evaluationHTML(weights: "runs/<tiny>.safetensors")
        #expect(parseXML(html) != nil)  // well-formed, so the weights' name was escaped
        #expect(html.contains("runs/&lt;tiny&gt;.safetensors"))
        #expect(html.contains("66.67%"), "20 of the 30 oracle predictions are right")
        #expect(html.contains("id=\"confusion\"") && html.contains("id=\"samples\""))
        #expect(!html.contains("id=\"curves\""), "an evaluation has no training curves")

        let folder = try temporaryDirectory() + "/nested/eval"
        let path = try report.writeEvaluation(to: folder, weights: "w.safetensors")
        #expect(path.hasSuffix("nested/eval/evaluation.html"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("Evaluation: tiny"))
        // Written whole: no temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["evaluation.html"])
    }

    @Test func theTextMatrixHasOneRowPerClassAndTheDiagonalInBrackets() {
        var matrix = ConfusionMatrix(classCount: 3)
        for _ in 0..<12 { matrix.record(actual: 0, predicted: 0) }
        matrix.record(actual: 0, predicted: 2)
        matrix.record(actual: 1, predicted: 1)
        let lines = matrix.text(classNames: ["Cat", "Dog"]).split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "a header, three classes and the legend:\n\(lines.joined(separator: "\n"))")
        #expect(lines[1].hasPrefix("0 Cat") && lines[1].contains("[12]") && lines[1].hasSuffix("92.3%"), "\(lines[1])")
        #expect(lines[2].hasPrefix("1 Dog") && lines[2].contains("[1]") && lines[2].hasSuffix("100.0%"), "\(lines[2])")
        #expect(lines[3].hasPrefix("2 class 2") && lines[3].hasSuffix("—"), "a class without examples: \(lines[3])")
        // The columns line up: every class's row has the same width.
        #expect(Set(lines[1...3].map(\.count)).count == 1, "\(lines.joined(separator: "\n"))")
    }
}
