import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// What `kindling train --model charlstm|gpt` needs from the command line.
struct TextTrainingOptions {
    var kind: TextModelKind
    var steps: Int
    var batchSize: Int
    var context: Int
    var learningRate: Float
    var seed: UInt64
    var save: String?
    var report: String?
    var data: String?
    var sampleLines: Int = 20
}

/// The measured result of a text training run.
struct TextTrainingResult {
    var bigramLoss: Double
    var validationLoss: Double
    var seconds: Double
    var samples: [String]
}

/// Trains a character model on the fortunes corpus: AdamW, a short warm-up
/// then a cosine decay of the learning rate, gradients clipped to norm 1.
/// Prints the bigram baseline's validation loss first, the running training
/// loss and a validation estimate as it goes, the validation loss over the
/// whole held-out split at the end (nats per character), and sampled lines.
func trainText(_ options: TextTrainingOptions) throws -> TextTrainingResult {
    let corpus = try failingClearly { try TextCorpus.fortunes(directory: options.data ?? TextCorpus.fortunesDirectory) }
    let separator = "%\n"
    let vocabulary = CharacterVocabulary(corpus.records, extra: Array(separator))
    let train = TextDataset(records: corpus.training, separator: separator, vocabulary: vocabulary, length: options.context)
    let validation = TextDataset(records: corpus.validation, separator: separator, vocabulary: vocabulary, length: options.context)
    let bigram = BigramModel(ids: train.ids, vocabularySize: vocabulary.count)
    let bigramLoss = bigram.loss(validation.ids)
    print("Fortunes: \(corpus.records.count) records, \(train.ids.count) training and \(validation.ids.count) validation characters, \(vocabulary.count) distinct")
    print(String(format: "bigram baseline (counted on the training split): validation loss %.4f nats/char", bigramLoss))

    manualSeed(options.seed)
    let model = options.kind.make(vocabulary: vocabulary.count, context: options.context)
    let optimizer = AdamW(parameters: model.parameters(), learningRate: options.learningRate, weightDecay: 0.01)
    print("Training \(options.kind.rawValue) (\(model.parameterCount) parameters): \(options.steps) steps, batch \(options.batchSize) × \(options.context) characters, adamw lr \(options.learningRate), seed \(options.seed)")
    fflush(nil)

    let loader = DataLoader(train, batchSize: options.batchSize, shuffle: true, dropLast: true, seed: options.seed)
    var batches = loader.makeIterator()
    let warmup = min(100, options.steps / 10)
    let started = Date()
    var runningLoss = 0.0
    var checkpoints: [TextTrainingReport.Checkpoint] = []
    var bar = ProgressBar(title: "steps", total: options.steps)
    model.train()
    for step in 1...options.steps {
        // Warm-up, then cosine decay to a tenth.
        let progress = Float(step - warmup) / Float(max(1, options.steps - warmup))
        optimizer.learningRate = step <= warmup
            ? options.learningRate * Float(step) / Float(warmup)
            : options.learningRate * (0.1 + 0.45 * (1 + cos(Float.pi * progress)))
        guard let batch = batches.next() ?? { batches = loader.makeIterator(); return batches.next() }() else { break }
        optimizer.zeroGrad()
        let loss = nextCharacterLoss(model, batch)
        loss.backward()
        clipGradNorm(model.parameters(), maxNorm: 1)
        optimizer.step()
        runningLoss = step == 1 ? Double(loss.item()) : 0.98 * runningLoss + 0.02 * Double(loss.item())
        bar.update(done: step, samples: step * options.batchSize * options.context, loss: runningLoss)
        if step % max(1, options.steps / 10) == 0 || step == options.steps {
            let estimate = validationLoss(model, validation, windows: 128, batchSize: options.batchSize)
            let elapsed = Date().timeIntervalSince(started)
            checkpoints.append(.init(step: step, trainLoss: runningLoss, validationEstimate: estimate, seconds: elapsed))
            bar.clearLine()
            print(String(format: "step %d/%d  train loss %.4f  validation loss %.4f (estimate)  (%.0f s)",
                         step, options.steps, runningLoss, estimate, elapsed))
            fflush(nil)
        }
    }
    bar.finish()
    let seconds = Date().timeIntervalSince(started)
    let final = validationLoss(model, validation, windows: validation.count, batchSize: 64)
    print(String(format: "Done: validation loss %.4f nats/char (bigram %.4f, ratio %.3f) after %d steps in %.1f s.",
                 final, bigramLoss, final / bigramLoss, options.steps, seconds))

    var generator = SeededGenerator(seed: options.seed)
    let text = generate(model, vocabulary: vocabulary, prompt: "", length: 1200, context: options.context,
                        temperature: 0.8, topK: 20, using: &generator)
    let lines = Array(text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).prefix(options.sampleLines))
    print("Sampled (temperature 0.8, top-k 20):")
    for line in lines { print("  " + line) }

    if let directory = options.report {
        let report = TextTrainingReport(
            modelName: options.kind.rawValue, parameterCount: model.parameterCount,
            settings: [("Steps", "\(options.steps)"), ("Batch", "\(options.batchSize) windows of \(options.context) characters"),
                       ("Optimizer", "adamw, weight decay 0.01, gradients clipped to norm 1"),
                       ("Learning rate", "\(options.learningRate), warm-up then cosine to a tenth"), ("Seed", "\(options.seed)"),
                       ("Corpus", "fortunes: \(train.ids.count) training, \(validation.ids.count) validation characters, \(vocabulary.count) distinct")],
            bigramLoss: bigramLoss, validationLoss: final, checkpoints: checkpoints, samples: lines,
            samplingNote: "temperature 0.8, top-k 20, seed \(options.seed)",
            graphSVG: try textStepGraphSVG(model, validation))
        print("Wrote the training report to \(try report.write(to: directory))")
    }
    if let save = options.save {
        try model.save(to: save, metadata: ["model": options.kind.rawValue, "vocabulary": vocabulary.text,
                                            "context": "\(options.context)", "steps": "\(options.steps)"])
        print("Saved weights to \(save)")
    }
    return TextTrainingResult(bigramLoss: bigramLoss, validationLoss: final, seconds: seconds, samples: lines)
}

/// Mean cross-entropy of every position's next-character prediction in a
/// batch of windows: logits [B, T, V] against targets [B, T].
func nextCharacterLoss(_ model: Module, _ batch: Batch) -> Tensor {
    let logits = model(batch.inputs)
    let vocabulary = logits.shape[2]
    return crossEntropy(logits.reshaped([-1, vocabulary]), batch.labels)
}

/// The mean next-character loss over the first `windows` windows of
/// `data`, in evaluation mode and without a graph.
func validationLoss(_ model: Module, _ data: TextDataset, windows: Int, batchSize: Int) -> Double {
    model.eval()
    defer { model.train() }
    let n = min(windows, data.count)
    var total = 0.0
    for start in stride(from: 0, to: n, by: batchSize) {
        let indices = Array(start..<min(start + batchSize, n))
        total += Double(noGrad { nextCharacterLoss(model, data.batch(indices)) }.item()) * Double(indices.count)
    }
    return total / Double(max(n, 1))
}

/// `length` characters sampled one at a time after `prompt`: each step runs
/// the model on the last `context` characters and draws the next one from
/// the logits at the final position.
func generate(_ model: Module, vocabulary: CharacterVocabulary, prompt: String, length: Int, context: Int,
              temperature: Float, topK: Int?, using generator: inout SeededGenerator) -> String {
    model.eval()
    defer { model.train() }
    // A record starts after a separator: begin there when there is no prompt.
    var ids = vocabulary.encode(prompt.isEmpty ? "%\n" : prompt)
    let promptCount = ids.count
    for _ in 0..<length {
        let window = Array(ids.suffix(context))
        let logits = noGrad { model(Tensor(window.map(Float.init), shape: [1, window.count])) }
        let last = logits.selected(axis: 1, index: window.count - 1).toArray()
        ids.append(sampleToken(logits: last, temperature: temperature, topK: topK, using: &generator))
    }
    let text = vocabulary.decode(Array(ids[(prompt.isEmpty ? promptCount : 0)...]))
    return text.replacingOccurrences(of: "\n%\n", with: "\n\n")
}

/// The graph of one training step on two validation windows of 16
/// characters, one box per layer, as SVG. Gradients are cleared afterwards.
func textStepGraphSVG(_ model: Module, _ data: TextDataset) throws -> String {
    let batch = data.batch([0, 1])
    let short = Batch(inputs: batch.inputs.sliced(axis: 1, from: 0, to: min(16, data.length)).contiguous(),
                      targets: batch.targets.sliced(axis: 1, from: 0, to: min(16, data.length)).contiguous())
    let loss = nextCharacterLoss(model, short)
    loss.backward()
    defer { model.zeroGrad() }
    var options = GraphOptions(maxNodes: 120, collapseModules: true)
    options.title = "one training step on 2 windows of \(short.inputs.shape[1]) characters, loss \(String(format: "%.4f", loss.item()))"
    return String(decoding: try Graph(of: loss, module: model, options: options).svg(), as: UTF8.self)
}
