"""The demo members, as data: username, inviter (and the vouch note of their invite),
and what their profile says."""

DEMO_PASSWORD = "offload demo passphrase"

ADMIN = {"username": "admin", "email": "admin@offload.test"}

MEMBERS = [
    {"username": "alice", "inviter": "admin",
     "vouch": "Alice built our invoicing API and ran it for five years without an outage.",
     "display_name": "Alice Moreau",
     "headline": "Backend developer: payments, APIs, PostgreSQL",
     "bio": "Ten years of **Python** backends. I take on billing and integration work and "
            "pass on front-end projects.",
     "location": "Lyon, France", "skills": ["Python", "PostgreSQL", "Flask", "Stripe"],
     "education": ("INSA Lyon", "MSc", "Computer Science", 2008, 2013),
     "portfolio": ("Invoice engine for a logistics firm", "https://example.com/invoices",
                   "Replaced a spreadsheet process with an API and a ledger."),
     "alert": ({"q": "api", "category": "backend"}, "instant")},
    {"username": "bob", "inviter": "alice",
     "vouch": "Bob rebuilt our bank client's design system; careful, accessible work.",
     "display_name": "Bob Okafor",
     "headline": "Front-end and design systems", "bio": "React, accessibility, and CSS that "
     "holds up.", "location": "Lagos, Nigeria", "skills": ["React", "TypeScript", "CSS"],
     "education": ("University of Lagos", "BSc", "Computer Engineering", 2010, 2014),
     "portfolio": ("Design system for a bank", "https://example.com/design-system",
                   "Forty components, fully keyboard accessible.")},
    {"username": "carol", "inviter": "alice",
     "vouch": "Carol shipped our clinic booking app; it passed store review first time.",
     "display_name": "Carol Nguyen",
     "headline": "Mobile apps, iOS and Android", "bio": "Swift and Kotlin; I ship apps that "
     "pass review the first time.", "location": "Toronto, Canada",
     "skills": ["Swift", "Kotlin", "Flutter"],
     "education": ("University of Toronto", "BASc", "Software Engineering", 2012, 2016),
     "portfolio": ("Clinic booking app", "https://example.com/booking",
                   "50,000 monthly users."),
     "busy": True},
    {"username": "dave", "inviter": "bob",
     "vouch": "Dave migrated a retailer of ours to Kubernetes without an outage.",
     "display_name": "Dave Lindqvist",
     "headline": "DevOps and cloud migrations", "bio": "Kubernetes, Terraform, and calm "
     "incident response.", "location": "Stockholm, Sweden",
     "skills": ["Kubernetes", "Terraform", "AWS", "Python"],
     "education": ("KTH Royal Institute of Technology", "MSc", "Distributed Systems", 2009, 2014),
     "portfolio": ("Zero-downtime migration", "https://example.com/migration",
                   "Moved a retailer from VMs to Kubernetes without an outage.")},
    {"username": "eve", "inviter": "admin",
     "vouch": "Eve's studio built our sales dashboards; small team, reliable delivery.",
     "display_name": "Eve Adeyemi",
     "account_type": "organization", "organization_name": "Eve Labs",
     "headline": "A four-person studio for data products", "bio": "We build dashboards and "
     "data pipelines for small companies.", "location": "London, UK",
     "skills": ["Data engineering", "Python", "dbt"],
     "education": ("Imperial College London", "MEng", "Computing", 2006, 2010),
     "portfolio": ("Sales dashboard", "https://example.com/dashboard",
                   "Daily numbers for a 200-shop chain.")},
]

# Demo gigs, all left open so that visitors can shortlist, negotiate and award them.
# Money is in minor units of the site currency; ``deadline_days`` counts from the day
# of seeding. Questions: asker, body and, if the poster has answered, ``answer``.
# Offers: member, price, days, cover letter, ``fee_kind`` on task gigs (prepaid or
# postpaid; none on referrals), and optionally ``shortlisted``, ``portfolio`` (attach the
# member's portfolio) and a ``proposal`` of new terms, by the ``poster`` or the ``member``.
# Every member starts with 50.00 of sandbox funds: keep each one's fees well below.
GIGS = [
    {"poster": "alice", "kind": "referral", "title": "Port a Django shop to Flask",
     "category": "web", "skills": ["Python", "Flask", "Django", "PostgreSQL"],
     "budget_minor": (4_000_00, 6_000_00), "deadline_days": 45,
     "description": "A wine importer runs its online shop on Django 2.2, and their in-house "
                    "team only knows Flask. They want the shop ported to **Flask 3** with "
                    "the same URLs, so search rankings survive.\n\n"
                    "- about 40 templates, a basket and a Stripe checkout\n"
                    "- PostgreSQL stays; the Django migrations become Alembic ones\n"
                    "- tests for checkout and stock before anything else moves\n\n"
                    "I set the project up with them but I'm booked until spring.",
     "client": {"name": "Maison Perrin Vins", "contact": "Hélène Perrin, "
                "helene@perrin-vins.example, +33 4 72 00 00 00",
                "notes": "Prefers a call on Tuesday mornings. Their hosting is a single "
                         "VPS; the admin password is with their accountant."},
     "questions": [
         {"asker": "dave", "body": "Is the catalogue already in PostgreSQL, or is there a "
                                   "MySQL import somewhere too?",
          "answer": "Everything is in one PostgreSQL 14 database, about 3,000 products."},
         {"asker": "bob", "body": "Do they want to keep the current templates, or is a "
                                  "redesign part of this?",
          "answer": "Keep them. A redesign may follow as a separate job."},
     ],
     "offers": [
         {"member": "dave", "price_minor": 5_200_00, "days": 30,
          "cover_letter": "I moved two Django apps to Flask last year. I'd start with the "
                          "checkout tests, then port app by app behind the same URLs."},
         {"member": "bob", "price_minor": 4_600_00, "days": 35, "shortlisted": True,
          "portfolio": True,
          "cover_letter": "I'll port the templates to Jinja without changing a pixel, and I "
                          "pair with a backend developer I trust for the models."},
         {"member": "eve", "price_minor": 5_900_00, "days": 25,
          "cover_letter": "Two of us would work on it in parallel: one on the data layer "
                          "and Alembic, one on the views and templates.",
          "proposal": {"by": "poster", "price_minor": 5_400_00, "days": 28,
                       "note": "The client's ceiling is nearer 5,400; would that work with "
                               "a few more days?"}},
     ]},
    {"poster": "bob", "kind": "referral",
     "title": "iOS and Android booking app for a physiotherapy clinic",
     "category": "mobile", "skills": ["Swift", "Kotlin", "Flutter"],
     "budget_minor": (12_000_00, 18_000_00), "deadline_days": 90,
     "description": "A clinic I built a website for wants patients to book and move "
                    "appointments from their phones. Their booking system has a REST API "
                    "(documented, with a sandbox). Push reminders the day before.",
     "client": {"name": "Kinesis Physiotherapy", "contact": "Marc Dubois, "
                "marc@kinesis-physio.example"},
     "questions": [
         {"asker": "carol", "body": "Do they need Apple Health or Google Fit integration?",
          "answer": "Not in the first version."},
     ],
     "offers": [
         {"member": "carol", "price_minor": 14_500_00, "days": 60, "portfolio": True,
          "cover_letter": "I built a booking app for a clinic chain (in my portfolio): "
                          "Flutter, one code base, both stores approved first time."},
     ]},
    {"poster": "carol", "kind": "referral",
     "title": "Sales dashboards for a 40-shop bakery chain",
     "category": "data", "skills": ["dbt", "PostgreSQL", "Python", "Metabase"],
     "budget_minor": (6_000_00, 6_000_00), "deadline_days": 60,
     "description": "The bakery chain behind my last app wants daily sales per shop and "
                    "product, with waste tracked against orders. Fixed budget.",
     "client": {"name": "Boulangerie Martin", "contact": "Sophie Martin, "
                "+1 416 555 0142", "notes": "The finance lead, Raj, owns the data."},
     "questions": [
         {"asker": "eve", "body": "Which till system do the shops use, and can it export "
                                  "daily?"},
     ],
     "offers": [
         {"member": "eve", "price_minor": 6_000_00, "days": 40, "shortlisted": True,
          "portfolio": True,
          "cover_letter": "We've built exactly this for a 200-shop chain: dbt models, a "
                          "nightly load and Metabase dashboards the managers actually use."},
         {"member": "alice", "price_minor": 5_500_00, "days": 45,
          "cover_letter": "I can do the pipeline and models; dashboards in Metabase too."},
     ]},
    {"poster": "carol", "kind": "task", "title": "Fix flaky CI for a React Native app",
     "category": "devops", "skills": ["React Native", "GitHub Actions", "Detox", "Fastlane"],
     "budget_minor": (600_00, 900_00), "deadline_days": 14,
     "description": "One in three runs of our Detox end-to-end tests fails on GitHub "
                    "Actions and passes on a rerun. Find out why, fix it, and cut the "
                    "iOS build time if you can (now 38 minutes).",
     "questions": [
         {"asker": "dave", "body": "GitHub-hosted macOS runners, or self-hosted?",
          "answer": "GitHub-hosted, macos-14."},
         {"asker": "bob", "body": "Can I see a few failed run logs before making an offer?"},
     ],
     "offers": [
         {"member": "dave", "price_minor": 750_00, "days": 5, "fee_kind": "prepaid",
          "shortlisted": True,
          "cover_letter": "Usually it's simulator boot races or animations left on. I'll "
                          "add retries only where they belong and cache the pods."},
         {"member": "bob", "price_minor": 850_00, "days": 7, "fee_kind": "postpaid",
          "cover_letter": "I've debugged Detox timing issues on two apps; happy to pair.",
          "proposal": {"by": "member", "price_minor": 800_00, "days": 6,
                       "note": "Having seen the repository, I can do it for less."}},
     ]},
    {"poster": "eve", "kind": "task",
     "title": "Terraform module for our staging environment on AWS",
     "category": "devops", "skills": ["Terraform", "AWS"],
     "budget_minor": (1_000_00, 1_500_00), "deadline_days": 30,
     "description": "Our staging environment was clicked together in the console. We want "
                    "it as a Terraform module (VPC, RDS, ECS), so we can make a copy per "
                    "client.",
     "questions": [
         {"asker": "alice", "body": "Is there a production environment that should follow "
                                   "the same module later?",
          "answer": "Yes, next quarter; keep that in mind, but staging only for now."},
     ],
     "offers": [
         {"member": "dave", "price_minor": 1_400_00, "days": 10, "fee_kind": "postpaid",
          "portfolio": True,
          "cover_letter": "I'll import what exists rather than rebuild it, so staging "
                          "never goes down.",
          "proposal": {"by": "poster", "price_minor": 1_200_00, "days": 12,
                       "note": "Could you do it for 1,200 with a couple more days?"}},
     ]},
    {"poster": "alice", "kind": "task", "title": "Accessibility audit of a checkout flow",
     "category": "design", "skills": ["Accessibility", "WCAG", "React"],
     "budget_minor": (400_00, 600_00), "deadline_days": 21,
     "description": "Audit the five checkout pages of my invoicing app against WCAG 2.2 AA "
                    "and write up what to fix, in order of harm. Screen reader and "
                    "keyboard testing please.",
     "questions": [
         {"asker": "carol", "body": "Should the audit include the mobile web layout?"},
     ],
     "offers": [
         {"member": "bob", "price_minor": 450_00, "days": 4, "fee_kind": "prepaid",
          "cover_letter": "I audit with NVDA, VoiceOver and a keyboard, and write each "
                          "issue with the fix and the WCAG criterion."},
     ]},
]
