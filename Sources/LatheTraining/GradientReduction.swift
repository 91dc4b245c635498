import Dispatch
import LatheSupport

/// Sums the LoRA gradients of one optimizer step's micro-batches in global micro-batch order, however many ranks
/// computed them, so the adapter is bit-identical for any number of processes with the same global batch.
///
/// Each micro-batch's gradient is computed into a zeroed buffer; the step's gradient is then
/// `((0 + g₀) + g₁) + … + g_{k-1}`. One process adds each gᵢ as soon as it exists; with N ranks, rank r computes
/// the contiguous block `share` of micro-batches, the blocks are all-gathered (rank order is global order) and every
/// rank adds them in the same order. Float addition is not associative, so the order — not partial sums per rank —
/// is what makes the result independent of N. LoRA gradients are megabytes, so exchanging each one costs little.
struct GradientReduction {
    let communicator: any Communicator
    /// Micro-batches per optimizer step (k).
    let microBatches: Int
    /// Floats in one gradient.
    let count: Int
    /// The micro-batches (indices into the step's group) this rank computes.
    let share: Range<Int>
    /// One micro-batch's gradient layout in a message: its loss sum (8 bytes), then `count` floats.
    private var recordBytes: Int { 8 + 4 * count }
    private var outgoing: [UInt8] = []

    /// Seconds spent in the last `finish`'s exchange and the bytes this rank received in it.
    private(set) var communicationSeconds = 0.0
    private(set) var bytesReceived = 0

    init(communicator: any Communicator, microBatches: Int, count: Int) {
        self.communicator = communicator
        self.microBatches = microBatches
        self.count = count
        let (r, n) = (communicator.rank, communicator.size)
        share = (microBatches * r / n) ..< (microBatches * (r + 1) / n)
    }

    /// Starts a step: `gradients` and the loss sum are zeroed.
    mutating func begin(_ gradients: inout [Float], lossSum: inout Double) {
        for i in gradients.indices { gradients[i] = 0 }
        lossSum = 0
        outgoing.removeAll(keepingCapacity: true)
        if communicator.size > 1 { outgoing.reserveCapacity(share.count * recordBytes) }
    }

    /// Hands over one computed micro-batch (in `share` order): one process adds it to `gradients` now; several
    /// keep it for the exchange.
    mutating func add(_ micro: [Float], loss: Double, into gradients: inout [Float], lossSum: inout Double) {
        if communicator.size == 1 {
            accumulate(micro, into: &gradients)
            lossSum += loss
            return
        }
        withUnsafeBytes(of: loss.bitPattern.littleEndian) { outgoing.append(contentsOf: $0) }
        micro.withUnsafeBytes { outgoing.append(contentsOf: $0) }
    }

    /// Ends a step: with several ranks, gathers every micro-batch's gradient and adds them all in global order.
    mutating func finish(_ gradients: inout [Float], lossSum: inout Double) throws {
        communicationSeconds = 0
        bytesReceived = 0
        guard communicator.size > 1 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        let blocks = try communicator.allGather(outgoing)
        communicationSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        bytesReceived = blocks.enumerated().reduce(0) { $0 + ($1.offset == communicator.rank ? 0 : $1.element.count) }
        var micro = [Float](repeating: 0, count: count)
        for (rank, block) in blocks.enumerated() {
            let expected = microBatches * (rank + 1) / communicator.size - microBatches * rank / communicator.size
            guard block.count == expected * recordBytes else {
                throw CommunicatorError.malformed(operation: "gradient exchange", rank: communicator.rank,
                                                  detail: "rank \(rank) sent \(block.count) bytes, expected \(expected * recordBytes)")
            }
            block.withUnsafeBytes { raw in
                for record in 0..<expected {
                    let base = record * recordBytes
                    lossSum += Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self)))
                    micro.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(base + 8)..<(base + recordBytes)])) }
                    accumulate(micro, into: &gradients)
                }
            }
        }
    }

    private func accumulate(_ micro: [Float], into gradients: inout [Float]) {
        gradients.withUnsafeMutableBufferPointer { g in
            micro.withUnsafeBufferPointer { m in
                for i in 0..<g.count { g[i] += m[i] }
            }
        }
    }
}
