import Testing
@testable import LatheData

func redact(_ text: String, _ types: Set<PIIType> = Set(PIIType.allCases)) -> String {
    var config = PIIRedactor.Config(); config.types = types
    return PIIRedactor(config).redact(text).text
}

@Test func emails() {
    #expect(redact("Write to jane.doe+tickets@example.co.uk.") == "Write to <EMAIL>.")
    #expect(redact("user@localhost and a@b.c stay; @handle too") == "user@localhost and a@b.c stay; @handle too")
}

@Test func phones() {
    #expect(redact("Call +44 20 7946 0958 or +1-202-555-0143.") == "Call <PHONE> or <PHONE>.")
    #expect(redact("US: (415) 555-2671, 415.555.2671, 1 415 555 2671") == "US: <PHONE>, <PHONE>, <PHONE>")
    #expect(redact("Order 4155552671, version 1.2.3, +12 3, area (115) 555-2671") == "Order 4155552671, version 1.2.3, +12 3, area (115) 555-2671")
}

@Test func creditCardsOnlyWhenLuhnValid() {
    #expect(redact("Card 4111 1111 1111 1111 exp 12/29", [.creditCard]) == "Card <CREDIT_CARD> exp 12/29")
    #expect(redact("Card 5500-0000-0000-0004.", [.creditCard]) == "Card <CREDIT_CARD>.")
    #expect(redact("Ref 4111 1111 1111 1112 stays", [.creditCard]) == "Ref 4111 1111 1111 1112 stays")
    #expect(redact("id 12345678901234567890123 too long", [.creditCard]) == "id 12345678901234567890123 too long")
    #expect(NumberScanner.luhn([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]))
}

@Test func ibansOnlyWhenMod97Valid() {
    #expect(redact("IBAN DE89 3704 0044 0532 0130 00 Danke") == "IBAN <IBAN> Danke")
    #expect(redact("pay GB82WEST12345698765432 now") == "pay <IBAN> now")
    #expect(redact("pay GB82WEST12345698765433 now", [.iban]) == "pay GB82WEST12345698765433 now")
}

@Test func ssnsFollowTheAreaGroupSerialRules() {
    #expect(redact("SSN 123-45-6789.") == "SSN <SSN>.")
    for invalid in ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"] {
        #expect(redact("x \(invalid) y", [.ssn]) == "x \(invalid) y")
    }
    #expect(redact("part 123-45-6789-1", [.ssn]) == "part 123-45-6789-1")
}

@Test func ipAddresses() {
    #expect(redact("from 192.168.1.20 and 2001:db8::8a2e:370:7334.") == "from <IP> and <IP>.")
    #expect(redact("loopback ::1 or fe80::1ff:fe23:4567:890a", [.ipAddress]) == "loopback <IP> or <IP>")
    #expect(redact("bad 256.1.1.1, 1.2.3, 01.2.3.4, at 10:30:00, mac 00:1a:2b:3c:4d:5e, std::vector", [.ipAddress])
            == "bad 256.1.1.1, 1.2.3, 01.2.3.4, at 10:30:00, mac 00:1a:2b:3c:4d:5e, std::vector")
}

@Test func secretsByPrefixKeyBlockAndURL() {
    #expect(redact("aws AKIAIOSFODNN7EXAMPLE key") == "aws <SECRET> key")
    #expect(redact("token ghp_" + String(repeating: "a1B2", count: 9)) == "token <SECRET>")
    #expect(redact("github_pat_11ABCDEFG0123456789_abcdefghijklmnop") == "<SECRET>")
    #expect(redact("key sk-proj-abcdefghijklmnopqrstuvwx") == "key <SECRET>")
    #expect(redact("slack xoxb-123456789012-abcdefghij") == "slack <SECRET>")
    #expect(redact("google AIzaSyA1234567890abcdefghijklmnopqrstuv") == "google <SECRET>")
    let pem = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nafter"
    #expect(redact(pem) == "before\n<SECRET>\nafter")
    #expect(redact("db postgres://admin:hunter2@db.internal:5432/app") == "db postgres://<SECRET>@db.internal:5432/app")
    #expect(redact("skip sk-short and https://example.com/a@b") == "skip sk-short and https://example.com/a@b")
}

@Test func highEntropyTokensButNotHexHashesOrWords() {
    #expect(redact("secret=Zx8Qp2Lk9Vb7Nm4Rt6Yw1Ue3Io5Pa0SdFgHjKl") == "secret=<SECRET>")
    #expect(redact("commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it", [.secret])
            == "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it")
    #expect(redact("Donaudampfschifffahrtsgesellschaftskapitänswitwe", [.secret]) == "Donaudampfschifffahrtsgesellschaftskapitänswitwe")
    #expect(redact("path /usr/local/lib/python3/site-packages/numpy", [.secret]) == "path /usr/local/lib/python3/site-packages/numpy")
}

@Test func typesAreSwitchableAndCounted() {
    let text = "mail a.b@example.com ip 10.0.0.1"
    #expect(redact(text, [.ipAddress]) == "mail a.b@example.com ip <IP>")
    #expect(redact(text, []) == text)
    let (_, counts) = PIIRedactor().redact(text + " and c@example.org")
    #expect(counts[.email] == 2 && counts[.ipAddress] == 1)
}
