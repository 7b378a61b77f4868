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
    fatalError("Exercise 10.4 is not done yet: the training loop — see Lessons/10-data-training.md")
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
    fatalError("Exercise 10.5 is not done yet: accuracy: eval mode, no graph, argmax — see Lessons/10-data-training.md")
    // END EXERCISE 10.5
}
