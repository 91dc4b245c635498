import Dispatch
import LatheSupport

/// Sums the LoRA gradients of one optimizer step's micro-batches in global micro-batch order, however many ranks
/// computed them, so the adapter is bit-identical for any number of processes with the same global batch.
///
/// Each micro-batch's gradient is computed into a zeroed buffer; the step's gradient is then
/// `((0 + g₀) + g₁) + … + g_{k-1}`. Float addition is not associative, so the order — not partial sums per rank —
/// is what makes the result independent of N. One process adds each gᵢ as soon as it exists. With N ranks,
/// micro-batch i belongs to rank i mod N, so round j (every rank's j-th micro-batch) covers micro-batches
/// jN ..< (j+1)N; each round is all-gathered (rank order is global order) and every rank adds its N gradients in
/// that order. A rank holds N gradients at a time, whatever the global batch; LoRA gradients are megabytes.
struct GradientReduction {
    let communicator: any Communicator
    /// Micro-batches per optimizer step (k).
    let microBatches: Int
    /// Floats in one gradient.
    let count: Int
    /// One micro-batch in a message: its loss sum (8 bytes), then `count` floats.
    private var recordBytes: Int { 8 + 4 * count }
    private var received: [Float]
    private var roundsDone = 0

    /// Seconds this step spent in exchanges (waiting for slower ranks included) and bytes received from others.
    private(set) var communicationSeconds = 0.0
    private(set) var bytesReceived = 0

    init(communicator: any Communicator, microBatches: Int, count: Int) {
        self.communicator = communicator
        self.microBatches = microBatches
        self.count = count
        received = communicator.size > 1 ? [Float](repeating: 0, count: count) : []
    }

    /// The micro-batches (indices into the step's group) this rank computes, in order.
    var share: StrideTo<Int> { stride(from: communicator.rank, to: microBatches, by: communicator.size) }

    /// Rounds of exchange per step.
    private var rounds: Int { (microBatches + communicator.size - 1) / communicator.size }

    /// Starts a step: `gradients` and the loss sum are zeroed.
    mutating func begin(_ gradients: inout [Float], lossSum: inout Double) {
        for i in gradients.indices { gradients[i] = 0 }
        lossSum = 0
        roundsDone = 0
        communicationSeconds = 0
        bytesReceived = 0
    }

    /// Hands over this rank's next micro-batch (in `share` order): one process adds it to `gradients`; several
    /// exchange it with the other ranks' micro-batches of the same round and add all of them in global order.
    mutating func add(_ micro: [Float], loss: Double, into gradients: inout [Float], lossSum: inout Double) throws {
        if communicator.size == 1 {
            accumulate(micro, into: &gradients)
            lossSum += loss
            return
        }
        var record = [UInt8]()
        record.reserveCapacity(recordBytes)
        withUnsafeBytes(of: loss.bitPattern.littleEndian) { record.append(contentsOf: $0) }
        micro.withUnsafeBytes { record.append(contentsOf: $0) }
        try exchange(record, into: &gradients, lossSum: &lossSum)
    }

    /// Ends a step: a rank with fewer micro-batches than the others joins their last round with nothing to send.
    mutating func finish(_ gradients: inout [Float], lossSum: inout Double) throws {
        while communicator.size > 1 && roundsDone < rounds { try exchange([], into: &gradients, lossSum: &lossSum) }
    }

    /// One round: all-gathers each rank's record and adds them in rank order.
    private mutating func exchange(_ record: [UInt8], into gradients: inout [Float], lossSum: inout Double) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let records = try communicator.allGather(record)
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        for (rank, bytes) in records.enumerated() {
            if rank != communicator.rank { bytesReceived += bytes.count }
            let expected = roundsDone * communicator.size + rank < microBatches ? recordBytes : 0
            guard bytes.count == expected else {
                throw CommunicatorError.malformed(operation: "gradient exchange", rank: communicator.rank,
                                                  detail: "rank \(rank) sent \(bytes.count) bytes in round \(roundsDone), expected \(expected)")
            }
            guard expected > 0 else { continue }
            bytes.withUnsafeBytes { raw in
                lossSum += Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)))
                received.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[8...])) }
            }
            accumulate(received, into: &gradients)
        }
        roundsDone += 1
    }

    private func accumulate(_ micro: [Float], into gradients: inout [Float]) {
        gradients.withUnsafeMutableBufferPointer { g in
            micro.withUnsafeBufferPointer { m in
                for i in 0..<g.count { g[i] += m[i] }
            }
        }
    }
}
