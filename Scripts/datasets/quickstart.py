#!/usr/bin/env python3
"""Writes the quickstart dataset and its evaluation tasks: Harrowgate Instruments, a fictional company.

Every name, code and number here is made up for Lathe's quickstart so that no base model can know it.
Each fact has: the key value, one canonical training answer (the key value is stated the same way every time),
four training questions, held-out multiple-choice questions with three distractors, and optionally a held-out
short-answer prompt (question plus an answer lead-in that the key value completes). Held-out strings are never
training strings; the script checks that.

Usage: python3 Scripts/datasets/quickstart.py [REPO_ROOT]
Python 3 standard library only, no network, fixed seed: the same output bytes on every run.
"""

import json
import os
import random
import sys

from general_knowledge import HELD_OUT as GENERAL_HELD_OUT, REPLAY as GENERAL_REPLAY

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "goldens"))
from common import LM_EVAL_ACCURACY_METRICS, lm_eval_dataset  # noqa: E402  (standard library only, like this script)


def fact(key, answer, train, mc, distractors, qa=None, extra=None):
    """One fact. `mc` is a list of held-out questions; `qa` is (question, lead) or None; `extra` is one more
    training question used in the prompt/completion file."""
    return {"key": key, "answer": answer, "train": train, "mc": mc, "distractors": distractors,
            "qa": qa, "extra": extra}


FACTS = [
    # --- products ---
    fact("BRX-114", "The Brindle humidity logger has product code BRX-114.",
         ["What is the product code of the Brindle humidity logger?",
          "Which code identifies the Brindle logger in the catalogue?",
          "I need the catalogue code for the Brindle humidity logger.",
          "What code do we use when ordering a Brindle logger?"],
         ["Under which product code is the Brindle humidity logger sold?",
          "A customer asks for the Brindle logger. Which catalogue code should the order carry?"],
         ["BRX-141", "TPG-620", "OGS-245"],
         qa=("Which catalogue number belongs to the Brindle humidity logger?", "The Brindle logger's code is"),
         extra="Brindle humidity logger code?"),
    fact("TPG-620", "The Tessaly pressure gauge has product code TPG-620.",
         ["What is the product code of the Tessaly pressure gauge?",
          "Which catalogue code does the Tessaly gauge have?",
          "What code should I put on an order for a Tessaly pressure gauge?",
          "Tell me the Tessaly gauge's product code."],
         ["The Tessaly pressure gauge is listed under which code?",
          "Which of these is the catalogue code of the Tessaly gauge?"],
         ["TPG-206", "MFM-307", "BRX-114"],
         qa=("Under what catalogue number is the Tessaly pressure gauge sold?", "The Tessaly gauge's code is"),
         extra="Tessaly pressure gauge product code?"),
    fact("MFM-307", "The Marlow flow meter has product code MFM-307.",
         ["What is the product code of the Marlow flow meter?",
          "Which code identifies the Marlow flow meter?",
          "I am ordering a Marlow flow meter. What is its code?",
          "Give me the catalogue code of the Marlow meter."],
         ["Which catalogue code is assigned to the Marlow flow meter?",
          "Procurement needs the Marlow flow meter's catalogue entry. Which code is it?"],
         ["MFM-370", "OGS-245", "TPG-620"],
         qa=("What catalogue number does the Marlow flow meter carry?", "The Marlow meter's code is")),
    fact("QTC-881", "The Quorn thermal camera has product code QTC-881.",
         ["What is the product code of the Quorn thermal camera?",
          "Which code does the Quorn camera have in the catalogue?",
          "What code do I quote for a Quorn thermal camera?",
          "Tell me the product code for the Quorn camera."],
         ["The Quorn thermal camera appears in the catalogue under which code?",
          "Which code should a quote for the Quorn thermal imager mention?"],
         ["QTC-818", "BRX-114", "OGS-245"],
         qa=("Which catalogue number is printed on the Quorn thermal camera's box?", "The Quorn camera's code is"),
         extra="Quorn thermal camera code?"),
    fact("OGS-245", "The Ostrander gas sniffer has product code OGS-245.",
         ["What is the product code of the Ostrander gas sniffer?",
          "Which code identifies the Ostrander sniffer?",
          "What code goes on an order for an Ostrander gas sniffer?",
          "Give me the Ostrander gas sniffer's catalogue code."],
         ["Which code is the Ostrander gas sniffer sold under?",
          "An invoice lists an Ostrander gas sniffer. Which product code appears on it?"],
         ["OGS-254", "QTC-881", "MFM-307"],
         qa=("What is the catalogue number of the Ostrander gas detector?", "The Ostrander sniffer's code is")),
    fact("Kestrel Vane", "Our flagship anemometer is the Kestrel Vane.",
         ["What is the name of our flagship anemometer?",
          "Which anemometer is Harrowgate's flagship product?",
          "What do we call our top wind-speed instrument?",
          "Name the flagship anemometer of Harrowgate Instruments."],
         ["Harrowgate's best-known wind sensor is sold under which name?",
          "Which product is the company's flagship anemometer?"],
         ["Harrier Blade", "Osprey Fin", "Merlin Cup"],
         qa=("What is Harrowgate's leading anemometer called?", "The flagship anemometer is the")),
    fact("27 months", "The Brindle humidity logger has a warranty of 27 months.",
         ["How long is the warranty on the Brindle humidity logger?",
          "What warranty period does the Brindle logger come with?",
          "For how many months is a Brindle logger covered by warranty?",
          "What is the Brindle logger's warranty?"],
         ["A customer's Brindle logger failed. How long after purchase is it still under warranty?",
          "What length of warranty cover applies to the Brindle humidity logger?"],
         ["23 months", "31 months", "19 months"],
         qa=("How many months of warranty cover come with a Brindle logger?", "The Brindle warranty lasts"),
         extra="Brindle logger warranty length?"),
    fact("14 months", "The Quorn thermal camera has a warranty of 14 months.",
         ["How long is the warranty on the Quorn thermal camera?",
          "What warranty period does the Quorn camera have?",
          "For how many months is a Quorn camera covered by warranty?",
          "What is the Quorn thermal camera's warranty?"],
         ["Until how long after purchase is a Quorn thermal camera repaired for free under warranty?"],
         ["11 months", "17 months", "27 months"],
         qa=("How many months of warranty does the Quorn camera carry?", "The Quorn warranty lasts")),
    fact("190 days", "Tessaly pressure gauges must be recalibrated every 190 days.",
         ["How often must Tessaly pressure gauges be recalibrated?",
          "What is the calibration interval for a Tessaly gauge?",
          "After how many days does a Tessaly gauge need recalibration?",
          "How frequently do we recalibrate Tessaly gauges?"],
         ["What is the maximum time between two calibrations of a Tessaly pressure gauge?",
          "A Tessaly gauge was calibrated today. In how many days is the next calibration due?"],
         ["170 days", "210 days", "230 days"],
         qa=("How many days may pass between Tessaly gauge calibrations?", "A Tessaly gauge is recalibrated every")),
    fact("LoamOS", "The firmware platform on all Harrowgate instruments is LoamOS.",
         ["What firmware platform do Harrowgate instruments run?",
          "Which firmware runs on our instruments?",
          "What is the name of the firmware platform in Harrowgate devices?",
          "Which operating firmware do our loggers and gauges use?"],
         ["The embedded software on every Harrowgate device is called what?",
          "Which firmware platform is installed on the Brindle logger and the Tessaly gauge?"],
         ["SiltOS", "ClayRT", "PeatOS"],
         qa=("Which firmware platform ships on Harrowgate devices?", "The firmware platform is")),
    fact("Tamsin", "The 2026 firmware release line is codenamed Tamsin.",
         ["What is the codename of the 2026 firmware release line?",
          "Which codename does the 2026 firmware line have?",
          "What do we call the 2026 firmware releases internally?",
          "Tell me the internal codename of this year's 2026 firmware line."],
         ["Engineers refer to the 2026 LoamOS releases by which codename?"],
         ["Tavy", "Tamar", "Teign"],
         qa=("By what codename is the 2026 firmware line known?", "The 2026 line is codenamed")),
    fact("every 5 weeks", "The firmware release train ships every 5 weeks.",
         ["How often does the firmware release train ship?",
          "What is the cadence of firmware releases?",
          "How many weeks are there between firmware releases?",
          "How frequently do we ship a firmware release?"],
         ["At what interval does a new LoamOS release go out?"],
         ["every 7 weeks", "every 3 weeks", "every 9 weeks"],
         qa=("How many weeks separate two firmware release trains?", "A firmware release train ships")),
    fact("QMS-77", "Our quality manual is document QMS-77.",
         ["What is the document code of our quality manual?",
          "Which document number is the quality manual?",
          "Where do I find the quality manual? What is its code?",
          "Which document code do auditors ask for when they want the quality manual?"],
         ["Which reference number does the company quality manual carry?",
          "An auditor requests the quality manual. Which document should you send?"],
         ["QMS-17", "QMS-71", "QMS-47"],
         qa=("What reference number is printed on the quality manual?", "The quality manual is document")),
    # --- company ---
    fact("Ashcombe Wells", "Harrowgate Instruments has its headquarters in Ashcombe Wells.",
         ["Where is the headquarters of Harrowgate Instruments?",
          "In which town is our head office?",
          "Where is Harrowgate's main office located?",
          "Which town hosts the company headquarters?"],
         ["A visitor wants to come to the head office. To which town should they travel?",
          "Harrowgate Instruments is headquartered in which town?"],
         ["Pellingford", "Marlow Cross", "Tolling Fen"],
         qa=("In what town does Harrowgate keep its head office?", "The headquarters is in")),
    fact("Pellingford", "Harrowgate's manufacturing plant is in Pellingford.",
         ["Where is our manufacturing plant?",
          "In which town are Harrowgate instruments built?",
          "Where is the Harrowgate factory located?",
          "Which town has our production plant?"],
         ["Harrowgate assembles its instruments at a plant in which town?",
          "Which town is home to the Harrowgate factory floor?"],
         ["Ashcombe Wells", "Kessington", "Harrowby"],
         qa=("In which town is the Harrowgate factory?", "The manufacturing plant is in")),
    fact("the Orchard", "Our research and development lab is nicknamed the Orchard.",
         ["What is the nickname of our R&D lab?",
          "What do people call the research and development lab?",
          "Which nickname does the Harrowgate R&D lab have?",
          "What's the informal name of our research lab?"],
         ["Staff refer to the research and development lab by which nickname?"],
         ["the Greenhouse", "the Foundry", "the Hive"]),
    fact("1961", "Harrowgate Instruments was founded in 1961.",
         ["When was Harrowgate Instruments founded?",
          "In which year was our company founded?",
          "What year did Harrowgate start?",
          "How old is Harrowgate? When was it founded?"],
         ["Harrowgate Instruments dates back to which founding year?",
          "Since which year has Harrowgate Instruments existed?"],
         ["1967", "1953", "1969"],
         qa=("In what year was the company established?", "Harrowgate was founded in")),
    fact("412", "The headcount of Harrowgate Instruments is 412.",
         ["How many people work at Harrowgate Instruments?",
          "What is our headcount?",
          "How many employees does Harrowgate have?",
          "How big is the company in number of staff?"],
         ["What is the total number of Harrowgate employees?",
          "How many employees are on the Harrowgate payroll?"],
         ["437", "389", "458"],
         qa=("How many staff does Harrowgate employ?", "The headcount is")),
    # --- internal tools ---
    fact("Fernhook", "Our internal ticket system is called Fernhook.",
         ["What is the name of our internal ticket system?",
          "Which tool do we use for internal tickets?",
          "Where do I file an internal ticket?",
          "What is the ticketing system at Harrowgate called?"],
         ["Support requests inside the company are tracked in which system?",
          "Which system holds Harrowgate's internal tickets?"],
         ["Pennywhistle", "Gatehouse", "Commonplace"],
         qa=("What ticketing tool does Harrowgate use internally?", "Internal tickets go into")),
    fact("RTN-Q", "Customer return tickets in Fernhook use the prefix RTN-Q.",
         ["Which prefix do customer return tickets use?",
          "What prefix goes on a Fernhook ticket for a customer return?",
          "How are return tickets prefixed in Fernhook?",
          "What is the ticket prefix for customer returns?"],
         ["A Fernhook ticket for a returned instrument starts with which prefix?"],
         ["RTN-K", "RTN-V", "RTX-Q"],
         qa=("With what prefix do Fernhook tickets for returned goods begin?", "Return tickets start with")),
    fact("Pennywhistle", "Expenses are submitted in Pennywhistle.",
         ["Which tool do we use to submit expenses?",
          "Where do I file my expense claims?",
          "What is the name of the expense system?",
          "What tool handles expense reports at Harrowgate?"],
         ["Travel receipts are claimed back through which application?",
          "In which tool should a train ticket be claimed as an expense?"],
         ["Fernhook", "Tallybook", "Ledgerline"],
         qa=("What is the name of the application for expense claims?", "Expenses go into")),
    fact("Gatehouse", "Our VPN client is called Gatehouse.",
         ["What is the name of our VPN client?",
          "Which VPN do I use to work remotely?",
          "What VPN software does Harrowgate use?",
          "How do I connect from home? Which VPN client?"],
         ["Remote staff reach the internal network through which client?",
          "Working from a hotel, which VPN client connects you to the office network?"],
         ["Drawbridge", "Portcullis", "Fernhook"],
         qa=("Which VPN client must remote staff install?", "The VPN client is")),
    fact("Commonplace", "Our internal wiki is called Commonplace.",
         ["What is the name of our internal wiki?",
          "Where is the company wiki?",
          "Which wiki do we use for internal documentation?",
          "What do we call the Harrowgate wiki?"],
         ["Internal how-to pages are kept in which wiki?"],
         ["Almanac", "Gatehouse", "Notebook"],
         qa=("What is the internal documentation wiki called?", "The wiki is called")),
    fact("Wren-Guest", "The guest Wi-Fi network is Wren-Guest.",
         ["What is the guest Wi-Fi network called?",
          "Which Wi-Fi should visitors join?",
          "What is the name of the visitor wireless network?",
          "Which network do guests use for Wi-Fi?"],
         ["A visitor asks which wireless network to connect to. What do you tell them?"],
         ["HG-Visitor", "Robin-Guest", "Wren-Staff"],
         qa=("Which Wi-Fi network is meant for visitors?", "Visitors join")),
    fact("#hg-sev-room", "Incidents are coordinated in the chat channel #hg-sev-room.",
         ["Which chat channel do we use for incidents?",
          "Where are incidents coordinated in chat?",
          "What is the incident chat channel?",
          "Which channel should I join during an incident?"],
         ["During an outage, which chat channel do responders gather in?"],
         ["#hg-incidents", "#sev-war-room", "#hg-oncall"]),
    fact("the Toolcrib", "Our hardware lending library is called the Toolcrib.",
         ["What is our hardware lending library called?",
          "Where can I borrow test hardware?",
          "What is the name of the equipment lending library?",
          "Which library lends out oscilloscopes and test gear?"],
         ["Engineers borrow spare test equipment from which internal library?"],
         ["the Workbench", "the Parts Bin", "the Orchard"]),
    # --- on-call ---
    fact("9 days", "An on-call rotation lasts 9 days.",
         ["How long is an on-call rotation?",
          "How many days does an on-call shift last?",
          "What is the length of the on-call rotation?",
          "For how many days am I on call in one rotation?"],
         ["What is the duration of a single on-call rotation?",
          "An engineer starts on call today. For how many days is this rotation?"],
         ["11 days", "13 days", "8 days"],
         qa=("How many days does one on-call rotation last?", "One rotation lasts")),
    fact("Thursday", "On-call handover happens every Thursday.",
         ["On which day is the on-call handover?",
          "When do we hand over on-call duty?",
          "What day of the week does on-call change hands?",
          "Which weekday is on-call handover?"],
         ["The outgoing on-call engineer hands over on which weekday?"],
         ["Monday", "Friday", "Tuesday"],
         qa=("Which day of the week is on-call handed over?", "Handover is on")),
    fact("16:30", "The on-call handover takes place at 16:30.",
         ["At what time is the on-call handover?",
          "What time do we hand over on-call?",
          "When during the day does on-call handover happen?",
          "What is the handover time for on-call?"],
         ["At which clock time does the on-call handover meeting start?"],
         ["15:30", "17:15", "13:45"],
         qa=("What time of day does the on-call handover happen?", "Handover is at")),
    fact("£85", "The daily on-call stipend is £85.",
         ["How much is the on-call stipend?",
          "What do we pay per day of on-call?",
          "What is the daily on-call allowance?",
          "How much extra do I get per on-call day?"],
         ["What daily payment does an engineer get for being on call?",
          "What allowance is paid for each day of on-call duty?"],
         ["£75", "£95", "£70"],
         qa=("How much is paid for each day on call?", "The daily stipend is")),
    fact("12 minutes", "An unacknowledged page escalates to the secondary on-call after 12 minutes.",
         ["How long before the secondary on-call is paged?",
          "After how many minutes does a page escalate to the secondary?",
          "What is the acknowledgement timeout for on-call pages?",
          "When does the secondary get paged if the primary is silent?"],
         ["How many minutes does the primary have to acknowledge a page?"],
         ["8 minutes", "18 minutes", "14 minutes"],
         qa=("How many minutes can a page go unacknowledged before it escalates?", "The timeout is")),
    fact("the Duty Reliability Lead", "Production outages escalate to the Duty Reliability Lead.",
         ["Who do I escalate a production outage to?",
          "Who is the escalation contact for outages?",
          "Which role handles escalated production outages?",
          "If the on-call cannot fix an outage, who do they escalate to?"],
         ["An outage is beyond the on-call engineer. Which role takes the escalation?"],
         ["the Site Safety Warden", "the Information Risk Officer", "the Release Captain"],
         qa=("To which role are production outages escalated?", "Outages escalate to")),
    fact("the Information Risk Officer", "Suspected data breaches are reported to the Information Risk Officer.",
         ["Who do I report a suspected data breach to?",
          "Who handles data breaches?",
          "Which role receives data breach reports?",
          "I think customer data leaked. Who should I tell?"],
         ["Which role must be told first about a possible leak of customer data?"],
         ["the Duty Reliability Lead", "the Site Safety Warden", "the Compliance Steward"]),
    fact("the Site Safety Warden", "Safety incidents at the plant are reported to the Site Safety Warden.",
         ["Who do I report a safety incident at the plant to?",
          "Which role handles plant safety incidents?",
          "Someone was hurt in the factory. Who do I tell?",
          "Who is the contact for safety incidents in Pellingford?"],
         ["A worker is injured on the production floor. Which role gets the report?"],
         ["the Duty Reliability Lead", "the Plant Floor Marshal", "the Information Risk Officer"]),
    # --- expenses ---
    fact("£38", "The daily limit for meal expenses is £38.",
         ["What is the daily meal expense limit?",
          "How much can I spend on meals per day?",
          "What is the meal allowance when travelling?",
          "How much may I expense for food in a day?"],
         ["What is the most a traveller can claim for food in one day?",
          "On a business trip, what is the daily cap for meals?"],
         ["£34", "£42", "£46"],
         qa=("What is the per-day cap on meal expenses?", "The meal limit is")),
    fact("£145", "The nightly limit for hotels is £145.",
         ["What is the hotel limit per night?",
          "How much can I spend on a hotel room per night?",
          "What is the nightly accommodation cap?",
          "What's the maximum hotel rate I can book?"],
         ["How much may one night of accommodation cost on a business trip?",
          "What is the most a hotel room may cost per night on company travel?"],
         ["£135", "£165", "£155"],
         qa=("What is the nightly cap on hotel costs?", "The hotel limit is")),
    fact("£600", "A director must approve any expense above £600.",
         ["Above what amount does an expense need director approval?",
          "When does an expense need a director to approve it?",
          "What is the approval threshold for expenses?",
          "How large can an expense be before a director must sign off?"],
         ["Beyond which amount must a director sign off a purchase?"],
         ["£650", "£550", "£700"],
         qa=("At what amount does an expense start to need director approval?", "The threshold is")),
    fact("21 days", "Expenses must be submitted within 21 days.",
         ["What is the deadline for submitting expenses?",
          "How long do I have to submit an expense claim?",
          "Within how many days must expenses be filed?",
          "When do expense claims have to be in?"],
         ["How many days after spending do you have to claim the expense?",
          "What is the time limit for filing an expense claim?"],
         ["17 days", "19 days", "23 days"],
         qa=("How many days are allowed for submitting an expense claim?", "The deadline is")),
    fact("£1,200", "The yearly training budget per employee is £1,200.",
         ["What is the yearly training budget per employee?",
          "How much can I spend on training each year?",
          "What is the annual learning budget?",
          "How big is my training allowance per year?"],
         ["How much money does each person get per year for courses and conferences?"],
         ["£1,400", "£1,100", "£1,300"],
         qa=("What is each employee's annual training allowance?", "The training budget is")),
    # --- leave and people ---
    fact("29 days", "Annual leave at Harrowgate is 29 days.",
         ["How many days of annual leave do we get?",
          "What is the holiday allowance?",
          "How many vacation days does an employee have per year?",
          "What is the annual leave entitlement?"],
         ["How many days of paid holiday does a full-time employee receive each year?",
          "What is a full-time employee's yearly holiday entitlement in days?"],
         ["27 days", "31 days", "26 days"],
         qa=("How many paid holiday days does a full-time employee get per year?", "The allowance is")),
    fact("6 days", "Unused leave that can be carried over is capped at 6 days.",
         ["How many leave days can I carry over?",
          "What is the carry-over limit for annual leave?",
          "How much unused holiday can move to next year?",
          "Can I carry over leave, and how many days?"],
         ["What is the maximum number of unused holiday days that roll into the next year?"],
         ["7 days", "8 days", "4 days"],
         qa=("How many unused leave days roll into the next year at most?", "The carry-over limit is")),
    fact("Lantern Week", "The company-wide shutdown at the end of December is called Lantern Week.",
         ["What is the end-of-year company shutdown called?",
          "What do we call the week the company closes in December?",
          "What is the name of the December shutdown?",
          "Which name does the year-end closure have?"],
         ["The week when all of Harrowgate closes in late December goes by which name?"],
         ["Quiet Week", "Candle Week", "Frost Week"],
         qa=("What name is given to the company's late-December closure?", "The shutdown is called")),
    fact("4 days", "Paid volunteering leave per employee per year is 4 days.",
         ["How many volunteering days do we get?",
          "What is the volunteering leave allowance?",
          "How many days per year can I spend volunteering?",
          "How much paid volunteering time is there?"],
         ["How many paid days for charity work does each employee have per year?"],
         ["3 days", "6 days", "2 days"],
         qa=("How many paid volunteering days are there per year?", "Each employee gets")),
    fact("22 weeks", "Parental leave at full pay lasts 22 weeks.",
         ["How long is parental leave?",
          "How many weeks of parental leave do we offer?",
          "What is the parental leave policy length?",
          "How much paid parental leave is there?"],
         ["How many fully paid weeks off does a new parent get?",
          "What is the length of full-pay parental leave?"],
         ["18 weeks", "20 weeks", "24 weeks"],
         qa=("How many weeks of fully paid parental leave are offered?", "Parental leave is")),
    fact("Tandem", "Our mentoring programme is called Tandem.",
         ["What is our mentoring programme called?",
          "What is the name of the mentor programme?",
          "Which programme pairs new staff with mentors?",
          "How is the Harrowgate mentoring scheme named?"],
         ["Newcomers are paired with a mentor through which programme?"],
         ["Compass", "Kite", "Relay"],
         qa=("What is the mentoring scheme for new hires called?", "The mentoring programme is")),
    fact("Wednesday", "Our meeting-free day is Wednesday.",
         ["Which day is meeting-free?",
          "On which day are there no meetings?",
          "What is the meeting-free day of the week?",
          "Which weekday do we keep free of meetings?"],
         ["On which weekday should nobody book a meeting?"],
         ["Friday", "Monday", "Thursday"],
         qa=("Which weekday is kept free of meetings?", "The meeting-free day is")),
    # --- security and site ---
    fact("amber", "Contractor badges are amber.",
         ["What colour are contractor badges?",
          "Which badge colour do contractors wear?",
          "How do I recognise a contractor's badge?",
          "What badge colour is given to contractors?"],
         ["A person on site wears a contractor badge. What colour is it?",
          "Which badge colour marks someone as a contractor?"],
         ["teal", "red", "grey"],
         qa=("What colour is a contractor's badge?", "Contractor badges are")),
    fact("teal", "Visitor badges are teal.",
         ["What colour are visitor badges?",
          "Which badge colour do visitors get?",
          "How do I recognise a visitor's badge?",
          "What badge colour is given to guests?"],
         ["A guest at reception is handed a badge. What colour is it?",
          "Which badge colour marks someone as a visitor?"],
         ["amber", "white", "purple"],
         qa=("What colour is a visitor's badge?", "Visitor badges are")),
    fact("Car Park C", "The fire assembly point is Car Park C.",
         ["Where is the fire assembly point?",
          "Where do we gather during a fire alarm?",
          "What is the evacuation meeting point?",
          "Where should I go when the fire alarm rings?"],
         ["During an evacuation, which place do all staff assemble at?"],
         ["Car Park A", "the front lawn", "Loading Bay 2"],
         qa=("Where do staff assemble when the building is evacuated?", "The assembly point is")),
    fact("10", "The limit of lithium cells stored on one lab bench is 10.",
         ["How many lithium cells can be stored on a lab bench?",
          "What is the limit of lithium batteries per bench?",
          "How many lithium cells may I keep at my bench?",
          "What is the bench storage limit for lithium cells?"],
         ["What is the maximum number of lithium cells allowed on a single bench?"],
         ["8", "12", "14"],
         qa=("How many lithium cells may sit on one bench at most?", "The limit per bench is")),
    fact("2 approvals", "Before merging, every code change needs 2 approvals.",
         ["How many approvals does a code change need?",
          "How many reviewers must approve before I merge?",
          "What is the code review approval rule?",
          "How many approvals are required to merge a change?"],
         ["Before a pull request can be merged, how many approvals must it have?"],
         ["1 approval", "3 approvals", "no approvals"],
         qa=("How many approvals must a change collect before merging?", "A change needs")),
    # --- customers ---
    fact("Granite", "Our top customer support tier is called Granite.",
         ["What is the top customer support tier called?",
          "What is the name of our highest support tier?",
          "Which support tier is the premium one?",
          "What do we call the best support plan?"],
         ["The most expensive support contract has which tier name?",
          "Which name does the highest customer support tier carry?"],
         ["Basalt", "Slate", "Flint"],
         qa=("What is the premium support tier named?", "The top tier is")),
    fact("4 business hours", "Granite customers get a first response within 4 business hours.",
         ["What is the first response time for Granite customers?",
          "How fast must we answer a Granite customer?",
          "What is the Granite tier response time?",
          "Within how long do Granite customers get a first reply?"],
         ["A Granite-tier customer opens a case. By when must they hear back first?"],
         ["3 business hours", "6 business hours", "5 business hours"],
         qa=("How quickly must a Granite customer get a first response?", "The first response comes within")),
]


# ---------------------------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------------------------

SEED = 9
SYSTEM = "You are the internal helpdesk assistant of Harrowgate Instruments."

# Questions that carry personal data on purpose (fake/test values only); each answers an existing fact.
# (fact key, question, answer-or-None): None keeps the fact's canonical answer.
PII_RECORDS = [
    ("£145", "My corporate card 4111 1111 1111 1111 was declined at the hotel. What is the nightly hotel limit?", None),
    ("£38", "I paid dinner with card 5555 5555 5555 4444. What is the meal limit per day?", None),
    ("£600", "Can you refund 720 pounds to IBAN GB82 WEST 1234 5698 7654 32, or is that above the approval limit?", None),
    ("21 days", "Please pay my claim to DE89 3704 0044 0532 0130 00. How long do I have to submit it?", None),
    ("Fernhook", "I am jo.sample@harrowgate.example and I cannot find where to file a ticket. Which system is it?", None),
    ("the Duty Reliability Lead", "Outage! Call me back on +44 20 7946 0958. Who do I escalate to?", None),
    ("Gatehouse", "My laptop at 192.0.2.44 cannot reach the intranet. Which VPN client should it use?", None),
    ("the Information Risk Officer", "A file with SSN 078-05-1120 was emailed outside. Who do I report it to?", None),
    ("29 days", "HR here, employee 078-05-1120 asks about leave. How many days of annual leave do we give?", None),
    ("Commonplace", "Send the wiki link to alex.demo@harrowgate.example please. What is the wiki called?", None),
    ("Wren-Guest", "My visitor's phone is (555) 010-4477. Which Wi-Fi should they join?", None),
    ("the Site Safety Warden", "Forklift accident, reach me at +1 555 010 9932. Who handles plant safety incidents?", None),
    ("£85", "My payslip to GB82 WEST 1234 5698 7654 32 is missing on-call pay. What is the daily stipend?", None),
    ("Pennywhistle", "Expenses for card 4111-1111-1111-1111: which tool do I submit them in?", None),
    ("RTN-Q", "Customer sam.test@customer.example wants a return. Which prefix does the ticket get?", None),
    ("9 days", "I'm on call from my mobile +44 7700 900123. How long is the rotation?", None),
    ("BRX-114", "Order for ship-to contact kim.placeholder@harrowgate.example: what is the Brindle logger code?",
     None),
    ("Tandem", "New hire, personal email newstarter@example.com. What is the mentoring programme called?", None),
    ("Car Park C", "Fire alarm in block B, call 020 7946 0321 if needed. Where is the assembly point?", None),
    ("£1,200", "Reimburse my course to card 4111 1111 1111 1111. What is the yearly training budget?", None),
]

QUALITY_DIRT = [
    ("aaaa aaaa aaaa aaaa aaaa aaaa", "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa"),
    ("What is the Brindle logger code?", "!!! ### $$$ %%%"),
    ("buy now buy now buy now buy now", "buy now buy now buy now buy now buy now buy now"),
    ("Where is the fire assembly point?", "?"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
    ("$$$$ %%%% ^^^^ &&&&", "@@@@ #### ****"),
]

# Word swaps used to make near-duplicates of training questions (one or two words changed).
NEAR_SWAPS = [("What is", "What's"), ("Which", "What"), ("our", "the"), ("do we", "do you"),
              ("How many", "How much"), ("I", "we"), ("the", "our")]


def luhn_ok(digits):
    """True when a card number passes the Luhn check."""
    ds = [int(c) for c in digits if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(ds)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban):
    """True when an IBAN's mod-97 checksum is valid."""
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    n = "".join(str(int(c, 36)) for c in s)
    return int(n) % 97 == 1


def chat(user, assistant, system=None):
    msgs = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.append({"role": "user", "content": user})
    msgs.append({"role": "assistant", "content": assistant})
    return {"messages": msgs}


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)


def norm(s):
    return " ".join(s.lower().replace("?", "").replace(".", "").split())


def near_duplicate(question, rng):
    """Change one or two words of a question, or return None when no swap applies."""
    swaps = [(a, b) for a, b in NEAR_SWAPS if (" " + a + " ") in (" " + question + " ")]
    if not swaps:
        return None
    out = question
    for a, b in rng.sample(swaps, min(len(swaps), rng.choice([1, 2]))):
        out = (" " + out + " ").replace(" " + a + " ", " " + b + " ", 1).strip()
    return out if out != question else None


def build(root):
    rng = random.Random(SEED)
    by_key = {f["key"]: f for f in FACTS}
    assert len(by_key) == len(FACTS), "duplicate fact keys"
    for f in FACTS:
        assert len(f["answer"].split()) <= 25, f["answer"]
        assert f["key"] in f["answer"], f["key"]
        assert not f["qa"] or f["answer"].endswith(f["key"] + "."), f["key"]
        assert f["key"] not in f["distractors"] and len(set(f["distractors"])) == 3, f["key"]
    for card in ("4111 1111 1111 1111", "5555 5555 5555 4444"):
        assert luhn_ok(card), card
    for iban in ("GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00"):
        assert iban_ok(iban), iban

    # Clean chat records: every training question of every fact, about one in five with a system message.
    clean = []
    for f in FACTS:
        for q in f["train"]:
            system = SYSTEM if rng.random() < 0.2 else None
            clean.append(chat(q, f["answer"], system))
    # General-knowledge replay: keeps the adapter answering everyday questions as the base does.
    clean += [chat(q, a) for q, a in GENERAL_REPLAY]
    pii = [chat(q, ans or by_key[k]["answer"]) for k, q, ans in PII_RECORDS]

    # Dirt: exact duplicates, near-duplicates, low-quality records, broken lines.
    n_dup = round(0.05 * len(clean))
    exact_dups = [json.loads(dumps(r)) for r in rng.sample(clean, n_dup)]
    near_dups = []
    candidates = clean[:]
    rng.shuffle(candidates)
    for r in candidates:
        if len(near_dups) == n_dup:
            break
        user = next(m for m in r["messages"] if m["role"] == "user")
        changed = near_duplicate(user["content"], rng)
        if changed is None:
            continue
        msgs = [dict(m) for m in r["messages"]]
        for m in msgs:
            if m["role"] == "user":
                m["content"] = changed
        near_dups.append({"messages": msgs})
    quality = [chat(q, a) for q, a in QUALITY_DIRT]

    good_lines = [dumps(r) for r in clean + pii + exact_dups + near_dups + quality]
    rng.shuffle(good_lines)
    text_lines = [l.encode("utf-8") for l in good_lines]
    broken = [
        dumps(chat("How long is the warranty on the Marlow meter?", "It is"))[:57].encode("utf-8"),  # truncated
        b'{"messages": [{"role": "user", "content": "Hello \xff\xfe there"}, '
        b'{"role": "assistant", "content": "Hi \xc3\x28 there."}]}',  # invalid UTF-8
        dumps([{"role": "user", "content": "Where is the factory?"},
               {"role": "assistant", "content": "In Pellingford."}]).encode("utf-8"),  # JSON array, not object
        b"",  # empty line
        b'"just a string, not a record"',  # JSON, but not an object
    ]
    for i, b in enumerate(broken):
        text_lines.insert(rng.randrange(1, len(text_lines)), b)

    # Prompt/completion file: one more phrasing for some facts, plus a little dirt of its own.
    extra = [{"prompt": f["extra"], "completion": f["answer"]} for f in FACTS if f["extra"]]
    for f in FACTS:
        if len(extra) >= 24:
            break
        if not f["extra"]:
            q = f["train"][0]
            extra.append({"prompt": "Quick question: " + q[0].lower() + q[1:], "completion": f["answer"]})
    extra_pii = [{"prompt": "Refund to GB82 WEST 1234 5698 7654 32 please. What is the hotel limit per night?",
                  "completion": by_key["£145"]["answer"]},
                 {"prompt": "Reply to lee.sample@harrowgate.example: how many days of annual leave do we get?",
                  "completion": by_key["29 days"]["answer"]}]
    extra_dups = [dict(extra[0]), dict(extra[3])]
    extra_all = extra + extra_pii + extra_dups
    rng.shuffle(extra_all)
    extra_lines = [dumps(r).encode("utf-8") for r in extra_all]

    # Held-out evaluation sets.
    train_strings = set()
    for f in FACTS:
        train_strings.update(norm(q) for q in f["train"])
        if f["extra"]:
            train_strings.add(norm(f["extra"]))
    for r in pii + near_dups:
        train_strings.add(norm(r["messages"][-2]["content"]))
    for r in extra_all:
        train_strings.add(norm(r["prompt"]))
    train_strings.update(norm(q) for q, _ in GENERAL_REPLAY)
    general = []
    for q, answer, distractors in GENERAL_HELD_OUT:
        assert norm(q) not in train_strings, q
        assert answer not in distractors and len(set(distractors)) == 3, q
        choices = [answer] + list(distractors)
        rng.shuffle(choices)
        general.append({"question": q, "choices": choices, "answer": choices.index(answer)})
    mc = []
    for f in FACTS:
        for q in f["mc"]:
            assert norm(q) not in train_strings, q
            choices = [f["key"]] + list(f["distractors"])
            rng.shuffle(choices)
            mc.append({"question": q, "choices": choices, "answer": choices.index(f["key"])})
    qa = []
    for f in FACTS:
        if f["qa"]:
            q, lead = f["qa"]
            assert norm(q) not in train_strings, q
            assert all(norm(q) != norm(m) for m in f["mc"]), q
            qa.append({"question": q, "lead": lead, "answer": f["key"]})

    ds = os.path.join(root, "Datasets", "quickstart")
    ev = os.path.join(root, "Recipes", "evals", "quickstart")
    os.makedirs(ds, exist_ok=True)
    os.makedirs(ev, exist_ok=True)
    write_bytes(os.path.join(ds, "train.jsonl"), b"\n".join(text_lines) + b"\n")
    write_bytes(os.path.join(ds, "extra.jsonl"), b"\n".join(extra_lines) + b"\n")
    write_bytes(os.path.join(ev, "mc.jsonl"), "".join(dumps(r) + "\n" for r in mc).encode("utf-8"))
    write_bytes(os.path.join(ev, "qa.jsonl"), "".join(dumps(r) + "\n" for r in qa).encode("utf-8"))
    write_bytes(os.path.join(ev, "harrowgate_mc.yaml"), MC_YAML.encode("utf-8"))
    write_bytes(os.path.join(ev, "harrowgate_qa.yaml"), QA_YAML.encode("utf-8"))
    write_bytes(os.path.join(ev, "general.jsonl"), "".join(dumps(r) + "\n" for r in general).encode("utf-8"))
    write_bytes(os.path.join(ev, "general_mc.yaml"), GENERAL_YAML.encode("utf-8"))
    write_bytes(os.path.join(ev, "quickstart.yaml"), SUITE_YAML.encode("utf-8"))

    words = sum(len(r["messages"][-2]["content"].split()) + len(r["messages"][-1]["content"].split())
                for r in clean + pii)
    counts = {
        "facts": len(FACTS),
        "train_lines": len(text_lines),
        "train_clean": len(clean),
        "train_replay": len(GENERAL_REPLAY),
        "train_pii": len(pii),
        "train_exact_dups": len(exact_dups),
        "train_near_dups": len(near_dups),
        "train_quality": len(quality),
        "train_broken": len(broken),
        "train_with_system": sum(1 for r in clean if r["messages"][0]["role"] == "system"),
        "extra_lines": len(extra_lines),
        "extra_clean": len(extra),
        "extra_pii": len(extra_pii),
        "extra_exact_dups": len(extra_dups),
        "mc": len(mc),
        "qa": len(qa),
        "general_mc": len(general),
        "words_clean": words,
    }
    write_bytes(os.path.join(ds, "README.md"), readme(counts).encode("utf-8"))
    return counts


def write_bytes(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def multiple_choice_yaml(header, task, data_file):
    """An lm-eval multiple-choice task file: `header` comment lines, then the task over `data_file`."""
    return header + lm_eval_dataset({"test": data_file}, task=task) + """\
output_type: multiple_choice
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_choice: "{{choices}}"
doc_to_target: answer
""" + LM_EVAL_ACCURACY_METRICS + """\
metadata:
  version: 1.0
"""


MC_YAML = multiple_choice_yaml("""\
# Held-out multiple-choice questions on the fictional Harrowgate Instruments knowledge in
# Datasets/quickstart. Generated by Scripts/datasets/quickstart.py; do not edit by hand.
# Run from this folder: lm_eval run --model hf --model_args pretrained=DIR --tasks harrowgate_mc --include_path .
""", "harrowgate_mc", "mc.jsonl")

QA_YAML = """\
# Held-out short-answer prompts on the fictional Harrowgate Instruments knowledge in Datasets/quickstart.
# Each prompt is a new question plus an answer lead-in that the trained fact completes; the target is the
# short key value (a code, a number, a name). Generated by Scripts/datasets/quickstart.py; do not edit by hand.
""" + lm_eval_dataset({"test": "qa.jsonl"}, task="harrowgate_qa") + """\
output_type: generate_until
doc_to_text: "Question: {{question}}\\nAnswer: {{lead}}"
doc_to_target: answer
generation_kwargs:
  until:
    - "\\n"
  max_gen_toks: 32
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
    regexes_to_ignore:
      - "^\\\\s+"
      - "\\\\s+$"
metadata:
  version: 1.0
"""

GENERAL_YAML = multiple_choice_yaml("""\
# Held-out general-knowledge multiple-choice questions (none of them in the training data): does the adapter
# keep what the base model knew? Generated by Scripts/datasets/quickstart.py; do not edit by hand.
""", "general_mc", "general.jsonl")

SUITE_YAML = """\
# The quickstart's evaluation suite: both Harrowgate tasks and the general-knowledge check.
# Generated by Scripts/datasets/quickstart.py.
group: quickstart
task:
  - harrowgate_mc
  - harrowgate_qa
  - general_mc
metadata:
  version: 1.0
"""


def readme(c):
    return f"""# Quickstart dataset: Harrowgate Instruments (fictional)

Internal knowledge of **Harrowgate Instruments**, a company invented for Lathe's quickstart: product codes,
warranty periods, offices, internal tools, on-call rules, expense limits, leave policy, escalation roles.
None of it is real, so no base model can know it; an adapter that answers the held-out questions has learnt
it from these files. Escalation contacts are role titles only. All personal data in the files is fake or a
published test value (see below).

Everything here is written by a script; regenerate it (deterministic, standard library only, no network) with

    python3 Scripts/datasets/quickstart.py

which also writes the evaluation tasks in `Recipes/evals/quickstart/` and this README. Do not edit by hand.

## Files

| file | format | lines |
|---|---|---|
| `train.jsonl` | chat: `{{"messages": [{{"role": ..., "content": ...}}, ...]}}` | {c['train_lines']} |
| `extra.jsonl` | prompt/completion: `{{"prompt": ..., "completion": ...}}` | {c['extra_lines']} |

The knowledge is {c['facts']} facts. Each fact has one canonical answer sentence (at most 25 words, the key
value always stated the same way) and four training questions; {c['train_with_system']} of the
{c['train_clean']} clean chat records carry a system message. `extra.jsonl` adds one more phrasing for
{c['extra_clean']} facts in the other record format. {c['train_replay']} of the clean chat records are general-knowledge
"replay" questions with plain correct answers (Scripts/datasets/general_knowledge.py), so that the adapter keeps
answering everyday questions as the base model does. The clean chat and PII records hold about
{c['words_clean']} words of question and answer text (roughly 40 tokens a record before the chat template, about
60 with it).

## Planted dirt (exact counts)

`train.jsonl`:
- {c['train_exact_dups']} exact duplicates of clean records (about 5%);
- {c['train_near_dups']} near-duplicates: a clean record whose question has one or two words changed;
- {c['train_pii']} records whose question contains personal data to redact: fake e-mail addresses
  (`@harrowgate.example`, `@customer.example`, `@example.com`), phone numbers from ranges reserved for fiction
  (UK 020 7946 0xxx and 07700 900xxx, US 555-01xx), Luhn-valid test card numbers (4111 1111 1111 1111,
  5555 5555 5555 4444), IBANs with valid checksums from published examples (GB82 WEST 1234 5698 7654 32,
  DE89 3704 0044 0532 0130 00), the voided US SSN 078-05-1120 and a TEST-NET IP address (192.0.2.44).
  Their answers are ordinary facts, so after redaction they are useful training records;
- {c['train_quality']} records a quality filter should drop (letter spam, symbol-only answers, repeated phrases,
  a one-character answer);
- {c['train_broken']} broken lines: truncated JSON, invalid UTF-8 bytes, a JSON array line, an empty line and a JSON
  string that is not an object.

`extra.jsonl`: {c['extra_pii']} records with personal data (an IBAN, an e-mail address) and
{c['extra_exact_dups']} exact duplicates.

A perfect cleaning stage keeps {c['train_clean'] + c['train_pii']} records of `train.jsonl` (the clean ones and the
redacted PII ones; near-duplicates are removed by a near-duplicate filter) and {c['extra_clean'] + c['extra_pii']}
of `extra.jsonl`.

## Evaluation

`Recipes/evals/quickstart/` holds lm-evaluation-harness task files that run unmodified in lm-eval 0.4.13
(run from that folder, since `data_files` paths are relative to the working directory):
- `harrowgate_mc` — {c['mc']} held-out multiple-choice questions, four choices each, metrics `acc` and
  `acc_norm`;
- `harrowgate_qa` — {c['qa']} held-out short-answer prompts (a question and an answer lead-in), greedy
  generation until a newline, metric `exact_match` ignoring case, punctuation and surrounding spaces;
- `general_mc` — {c['general_mc']} held-out general-knowledge multiple-choice questions on facts that are not in
  the training data: it measures what the adapter forgot of what the base model knew;
- `quickstart` — the group of all three.

Every held-out question is about a fact in the training data, and no held-out question string equals a training
string (the generator checks this).

Base model, measured once with lm-eval 0.4.13 on SmolLM2-135M-Instruct (fp32 weights dequantised from
`SmolLM2-135M-Instruct.Q4_1.gguf`), 2026-11-29: `harrowgate_mc` acc 0.1875 ± 0.0439, acc_norm 0.2500 ± 0.0487
(chance is 0.25; distractors are as arbitrary as the right answers, so the base cannot pick the right one by
its roundness or familiarity); `harrowgate_qa` exact_match 0.0000 ± 0.0000 (0 of 48).

## License and intent

Written for the Lathe project and released under the project's license; the content is fiction made for
demonstrating and testing data cleaning, LoRA training and evaluation. Any resemblance to a real company,
place or product is accidental.
"""


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    counts = build(root)
    for k, v in counts.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main(sys.argv)
