import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// `kindling train`: train a built-in model on Fashion-MNIST, or a character
/// model on the fortunes corpus.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on Fashion-MNIST and report test accuracy per epoch, or a character model on English text.")

    @Option(help: "The model: mlp (784-128-10), convnet (two conv–ReLU–max-pool stages, lesson 11) or cnn (conv–batch-norm–ReLU blocks and global average pooling, lesson 12) on Fashion-MNIST; charlstm (an LSTM, lesson 13) or gpt (a small transformer, lesson 14) on the fortunes corpus.")
    var model: ModelChoice = .image(.mlp)

    @Option(help: "Character models: optimizer steps (default: 2000 for charlstm, 1500 for gpt).")
    var steps: Int?

    @Option(help: "Character models: characters per training window (default: 64).")
    var context: Int?

    @Option(help: "Passes over the training set.")
    var epochs: Int?

    @Option(help: "Examples per optimizer step (default: 64; charlstm 32 and gpt 16 windows).")
    var batchSize: Int?

    @Option(help: "Learning rate (default: 0.05 for sgd, 0.001 for adam).")
    var lr: Float?

    @Option(help: "The optimizer: sgd or adam.")
    var optimizer: OptimizerChoice = .sgd

    @Option(help: "SGD momentum (default: 0.9).")
    var momentum: Float = 0.9

    @Option(help: "Learning-rate schedule over the epochs: cosine, step (×0.1 every third of the run) or none.")
    var schedule: ScheduleChoice = .cosine

    @Flag(help: "Augment the training images: random shifts of up to 2 pixels and horizontal flips.")
    var augment = false

    @Option(help: "Random seed for initialization and shuffling.")
    var seed: UInt64 = 0

    @Option(help: "Save the trained weights to this .safetensors file.")
    var save: String?

    @Option(help: "Write an HTML training report (curves, the model's graph, confusion matrix, sample predictions) to this folder.")
    var report: String?

    @Flag(help: "With --report: add the mean and standard deviation of each layer's output on a test batch (activationStatistics, lesson 12).")
    var activations = false

    @Option(help: "Directory holding the Fashion-MNIST files, the only one searched when given (default: $KINDLING_FASHION_MNIST, then /usr/share/datasets/fashion-mnist); for the character models, a folder of fortune files (default: /usr/share/games/fortunes).")
    var data: String?

    enum OptimizerChoice: String, ExpressibleByArgument { case sgd, adam }
    enum ScheduleChoice: String, ExpressibleByArgument { case cosine, step, none }

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if activations && report == nil { throw ValidationError("--activations adds a section to the report: give --report DIR too") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let context, context < 1 { throw ValidationError("--context must be at least 1") }
        switch model {
        case .text:
            if epochs != nil { throw ValidationError("character models train for --steps, not --epochs") }
            if augment || activations { throw ValidationError("--augment and --activations are for the image models") }
        case .image:
            if steps != nil || context != nil { throw ValidationError("--steps and --context are for the character models (charlstm, gpt)") }
        }
    }

    func run() throws {
        // Everything that can be refused is refused before the first epoch.
        try checkDestinations(save: save, report: report)
        let model: BuiltinModel
        switch self.model {
        case .image(let image): model = image
        case .text(let kind):
            let context = self.context ?? kind.defaultContext
            _ = try trainText(TextTrainingOptions(
                kind: kind, steps: steps ?? kind.defaultSteps, batchSize: batchSize ?? kind.defaultBatchSize, context: context,
                learningRate: lr ?? (kind == .gpt ? 1e-3 : 3e-3), seed: seed, save: save, report: report, data: data))
            return
        }
        let (train, test) = try loadFashionMNIST(directory: data)
        manualSeed(seed)
        let batchSize = self.batchSize ?? 64
        let net = model.make()
        let epochs = self.epochs ?? 10
        let opt: Optimizer
        switch optimizer {
        case .sgd: opt = SGD(parameters: net.parameters(), learningRate: lr ?? 0.05, momentum: momentum)
        case .adam: opt = Adam(parameters: net.parameters(), learningRate: lr ?? 1e-3)
        }
        print("Training \(model.rawValue) (\(net.parameterCount) parameters) on Fashion-MNIST: "
              + "\(train.count) training, \(test.count) test images; \(epochs) epochs, batch \(batchSize), "
              + "\(optimizer.rawValue) lr \(opt.learningRate)\(optimizer == .sgd ? " momentum \(momentum)" : ""), \(schedule.rawValue) schedule, seed \(seed)")

        let scheduler: LRScheduler?
        switch schedule {
        case .cosine: scheduler = CosineAnnealingLR(opt, totalEpochs: epochs)
        case .step: scheduler = StepLR(opt, stepSize: max(1, epochs / 3), gamma: 0.1)
        case .none: scheduler = nil
        }
        let loader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed,
                                augmentation: augment ? ImageAugmentation(cropPadding: 2, horizontalFlip: true) : nil)
        let started = Date()
        var accuracies: [Double] = []
        var history = TrainingHistory(
            modelName: model.rawValue, parameterCount: net.parameterCount,
            optimizer: optimizer == .sgd ? "sgd, momentum \(momentum)" : "adam",
            learningRate: "\(opt.learningRate), \(schedule.rawValue) schedule", batchSize: batchSize, seed: seed)
        for epoch in 1...epochs {
            var bar = ProgressBar(title: "epoch \(epoch)/\(epochs)", total: loader.count)
            // The training loop itself is the library's (lesson 10): zeroGrad, forward, loss, backward, step.
            let meanLoss = trainEpoch(model: net, loader: loader, optimizer: opt) { done, lossSoFar in
                bar.update(done: done, samples: min(done * batchSize, train.count), loss: lossSoFar)
            }
            bar.finish()
            scheduler?.step()
            let acc = accuracy(of: net, on: test)
            accuracies.append(acc)
            let seconds = Date().timeIntervalSince(bar.start)
            history.append(trainLoss: meanLoss, testAccuracy: acc, seconds: seconds)
            print(String(format: "epoch %d/%d  train loss %.4f  test accuracy %.2f%%  (%.1f s)",
                         epoch, epochs, meanLoss, acc * 100, seconds))
            fflush(nil)  // each epoch's line as it ends, also when the output goes to a file or a pipe
        }
        let total = Date().timeIntervalSince(started)
        print(String(format: "Done: final test accuracy %.2f%% (best %.2f%%) after %d epoch\(epochs == 1 ? "" : "s") in %.1f s.",
                     accuracies.last! * 100, accuracies.max()! * 100, epochs, total))
        if let report {
            let page = try TrainingReport.write(to: report, history: history, model: net, test: test,
                                                classNames: FashionMNIST.classNames,
                                                graphSVG: try stepGraphSVG(net, test: test),
                                                activations: activations ? TrainingReport.measureActivations(of: net, on: test) : nil)
            print("Wrote the training report to \(page)")
        }
        if let save {
            try net.save(to: save, metadata: ["model": model.rawValue, "epochs": "\(epochs)"])
            print("Saved weights to \(save)")
        }
    }
}

/// Loads both splits, turning a missing dataset into a clear message and a
/// non-zero exit.
func loadFashionMNIST(directory: String?) throws -> (train: TensorDataset, test: TensorDataset) {
    try failingClearly { (try FashionMNIST.load(.train, directory: directory), try FashionMNIST.load(.test, directory: directory)) }
}

/// Checks that `--save` and `--report` can be written, before any work:
/// the error now, not after the whole run.
func checkDestinations(save: String?, report: String?) throws {
    try failingClearly {
        if let save { try checkWritable(save) }
        if let report { try prepareFolder(report) }
    }
}

/// Runs `body`; an error it throws is printed as "error: …" on standard
/// error and becomes exit status 1 (instead of ArgumentParser's own wording).
func failingClearly<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// The graph of one training step (a batch of 8 test images, loss and
/// gradients) as SVG, for the report. Gradients are cleared afterwards.
func stepGraphSVG(_ net: Module, test: TensorDataset) throws -> String {
    let batch = test.batch(Array(0..<min(8, test.count)))
    let loss = crossEntropy(net(batch.inputs), batch.labels)
    loss.backward()
    defer { net.zeroGrad() }
    var options = GraphOptions()
    options.title = "one training step on 8 test images, loss \(String(format: "%.4f", loss.item()))"
    return String(decoding: try Graph(of: loss, module: net, options: options).svg(), as: UTF8.self)
}
