import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// `kindling eval`: weights saved by `kindling train --save`, measured on the
/// Fashion-MNIST test set.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate saved weights on the Fashion-MNIST test set: accuracy and confusion matrix.",
        discussion: """
            kindling train --model cnn --save cnn.safetensors
            kindling eval --weights cnn.safetensors --report reports/cnn-eval
            """)

    @Option(help: "The .safetensors file written by `kindling train --save`.")
    var weights: String

    @Option(help: "The model the weights belong to: mlp, convnet or cnn (default: the one named in the file).")
    var model: BuiltinModel?

    @Option(help: "Write the report's evaluation part (accuracy, confusion matrix, sample predictions) to DIR/evaluation.html.")
    var report: String?

    @Option(help: "Directory holding the Fashion-MNIST files, the only one searched when given (default: $KINDLING_FASHION_MNIST, then /usr/share/datasets/fashion-mnist).")
    var data: String?

    func run() throws {
        try checkDestinations(save: nil, report: report)
        // The weights first: a wrong file is refused before the test set is read.
        let net = try failingClearly { try loadBuiltinModel(weights: weights, model: model) }
        let test = try failingClearly { try FashionMNIST.load(.test, directory: data) }
        net.model.eval()
        let evaluation = TrainingReport(
            history: TrainingHistory(modelName: net.kind.rawValue, parameterCount: net.model.parameterCount,
                                     optimizer: "—", learningRate: "—", batchSize: 1000, seed: 0),
            model: net.model, test: test, classNames: FashionMNIST.classNames, graphSVG: nil)
        let matrix = evaluation.confusionMatrix
        print("\(net.kind.rawValue) from \(weights) (\(net.model.parameterCount) parameters) on \(test.count) test images:")
        print(String(format: "test accuracy %.2f%% (%d of %d right)", (matrix.accuracy ?? 0) * 100, matrix.correct, matrix.total))
        print(matrix.text(classNames: FashionMNIST.classNames))
        if let report {
            let page = try failingClearly { try evaluation.writeEvaluation(to: report, weights: weights) }
            print("Wrote the evaluation to \(page)")
        }
    }
}

/// Why saved weights cannot be used: names the file, and what is wrong.
struct WeightsError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): \(reason)" }
}

/// A built-in model with the weights of `path` loaded. The model is `model`
/// when given, else the one the file's metadata names; a file of another
/// model, a truncated file or a tensor of the wrong shape is an error naming
/// the file, the tensor and both shapes.
func loadBuiltinModel(weights path: String, model: BuiltinModel?) throws -> (kind: BuiltinModel, model: Sequential) {
    let tensors = try loadSafetensors(from: path)  // SafetensorsError names the file
    let saved = try loadSafetensorsMetadata(from: path)["model"]
    guard let kind = model ?? saved.flatMap(BuiltinModel.init(rawValue:)) else {
        throw WeightsError(path: path, reason: saved.map { "holds a model called \($0), which is not one of "
                                                          + BuiltinModel.allCases.map(\.rawValue).joined(separator: ", ") }
                                             ?? "does not say which model it holds (no \"model\" in its metadata); pass --model")
    }
    let net = kind.make()
    try loadWeights(net, named: kind.rawValue, from: path, tensors: tensors, savedName: saved)
    return (kind, net)
}

/// Loads `tensors` (read from `path`) into `net`, a `name` model. A file of
/// another model, a missing tensor or one of the wrong shape is a
/// `WeightsError` listing the problems one per line (the first dozen: a file
/// of another model has dozens), each naming the tensor and both shapes.
func loadWeights(_ net: Module, named name: String, from path: String, tensors: [String: Tensor], savedName: String?) throws {
    do {
        try net.load(stateDict: tensors)
    } catch let error as StateDictError {
        let origin = savedName.map { $0 == name ? "" : " (the file says it holds \($0))" } ?? ""
        let problems = error.description.replacingOccurrences(of: "load(stateDict:): ", with: "")
            .components(separatedBy: "; ")
        let shown = problems.prefix(12).map { "\n  \($0)" }.joined()
            + (problems.count > 12 ? "\n  … and \(problems.count - 12) more" : "")
        throw WeightsError(path: path, reason: "not the weights of \(name)\(origin):\(shown)")
    }
}
