import LatheTensors
import Testing

/// `BLASCore.better`: the kernels `lathe` asks OpenBLAS for instead of the ones it chose.
@Suite struct BLASCoreTests {
    @Test func aFallBackCoreIsReplacedByWhatTheCPURuns() {
        #expect(BLASCore.better(chosen: "Prescott", vectorLevel: 2, userChoice: nil) == "SkylakeX")
        #expect(BLASCore.better(chosen: "Prescott", vectorLevel: 1, userChoice: nil) == "Haswell")
        #expect(BLASCore.better(chosen: "Core2", vectorLevel: 1, userChoice: "") == "Haswell")
        #expect(BLASCore.better(chosen: "SANDYBRIDGE", vectorLevel: 2, userChoice: nil) == "SkylakeX")
    }

    @Test func aCoreWithAVX2TheUsersChoiceAndAnOldCPUAreKept() {
        for chosen in ["Haswell", "SkylakeX", "Cooperlake", "Zen"] {
            #expect(BLASCore.better(chosen: chosen, vectorLevel: 2, userChoice: nil) == nil, "\(chosen)")
        }
        #expect(BLASCore.better(chosen: "Prescott", vectorLevel: 2, userChoice: "Prescott") == nil)
        #expect(BLASCore.better(chosen: "Prescott", vectorLevel: 0, userChoice: nil) == nil)
    }

    @Test func theSummaryNamesTheRunningCore() {
        #expect(BLASCore.summary.hasPrefix("OpenBLAS \(BLASCore.name) kernels"))
        #expect(!BLASCore.name.isEmpty)
    }
}
