// The training loop and the metric that tells whether it worked (lesson 10).
//
// Every supervised training run in every framework is this loop:
//
//     for each batch:  zero the gradients → forward → loss → backward → step
//
// and every evaluation is the model, in eval mode and without a graph,
// predicting the class with the highest score.

/// Trains `model` for one epoch: one pass over `loader`, one optimizer step
/// per batch, with `crossEntropy` between the model's outputs (`[N, classes]`
/// scores) and the batch's labels. Puts the model in training mode first.
///
/// After each step, `onBatch` (if given) receives how many batches are done
/// (1, 2, …) and the mean loss over the examples seen so far in this epoch —
/// enough for a progress bar. Returns the epoch's mean loss per example.
///
///     let optimizer = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
///     for epoch in 1...10 {
///         let loss = trainEpoch(model: model, loader: loader, optimizer: optimizer)
///         print(epoch, loss, accuracy(of: model, on: test))
///     }
@discardableResult
public func trainEpoch(model: Module, loader: DataLoader, optimizer: Optimizer,
                       onBatch: ((Int, Double) -> Void)? = nil) -> Double {
    // BEGIN EXERCISE 10.4 — the training loop (Lessons/10-data-training.md)
    model.train()
    var totalLoss = 0.0
    var seen = 0
    for (i, batch) in loader.enumerated() {
        let labels = batch.labels
        optimizer.zeroGrad()
        let loss = crossEntropy(model(batch.inputs), labels)
        loss.backward()
        optimizer.step()
        totalLoss += Double(loss.item()) * Double(labels.count)
        seen += labels.count
        onBatch?(i + 1, totalLoss / Double(seen))
    }
    return seen == 0 ? 0 : totalLoss / Double(seen)
    // END EXERCISE 10.4
}

/// The fraction (0…1) of `dataset`'s examples whose label is the class
/// `model` scores highest — its accuracy (lesson 10).
///
/// Runs in eval mode and without recording a graph (`noGrad`), `batchSize`
/// examples at a time, then puts the model back in training mode. An empty
/// dataset has accuracy 0.
public func accuracy(of model: Module, on dataset: any Dataset, batchSize: Int = 1000) -> Double {
    // BEGIN EXERCISE 10.5 — accuracy: eval mode, no graph, argmax (Lessons/10-data-training.md)
    model.eval()
    defer { model.train() }
    var correct = 0
    noGrad {
        for batch in DataLoader(dataset, batchSize: batchSize, seed: 0) {  // in order; the seed is unused
            let predicted = model(batch.inputs).argmax(axis: 1).toArray()
            for (p, label) in zip(predicted, batch.labels) where Int(p) == label { correct += 1 }
        }
    }
    return dataset.count == 0 ? 0 : Double(correct) / Double(dataset.count)
    // END EXERCISE 10.5
}
