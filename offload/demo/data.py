"""The demo members, as data: username, inviter, and what their profile says."""

DEMO_PASSWORD = "offload demo passphrase"

ADMIN = {"username": "admin", "email": "admin@offload.test"}

MEMBERS = [
    {"username": "alice", "inviter": "admin", "display_name": "Alice Moreau",
     "headline": "Backend developer: payments, APIs, PostgreSQL",
     "bio": "Ten years of **Python** backends. I take on billing and integration work and "
            "pass on front-end projects.",
     "location": "Lyon, France", "skills": ["Python", "PostgreSQL", "Flask", "Stripe"],
     "education": ("INSA Lyon", "MSc", "Computer Science", 2008, 2013),
     "portfolio": ("Invoice engine for a logistics firm", "https://example.com/invoices",
                   "Replaced a spreadsheet process with an API and a ledger.")},
    {"username": "bob", "inviter": "alice", "display_name": "Bob Okafor",
     "headline": "Front-end and design systems", "bio": "React, accessibility, and CSS that "
     "holds up.", "location": "Lagos, Nigeria", "skills": ["React", "TypeScript", "CSS"],
     "education": ("University of Lagos", "BSc", "Computer Engineering", 2010, 2014),
     "portfolio": ("Design system for a bank", "https://example.com/design-system",
                   "Forty components, fully keyboard accessible.")},
    {"username": "carol", "inviter": "alice", "display_name": "Carol Nguyen",
     "headline": "Mobile apps, iOS and Android", "bio": "Swift and Kotlin; I ship apps that "
     "pass review the first time.", "location": "Toronto, Canada",
     "skills": ["Swift", "Kotlin", "Flutter"],
     "education": ("University of Toronto", "BASc", "Software Engineering", 2012, 2016),
     "portfolio": ("Clinic booking app", "https://example.com/booking",
                   "50,000 monthly users.")},
    {"username": "dave", "inviter": "bob", "display_name": "Dave Lindqvist",
     "headline": "DevOps and cloud migrations", "bio": "Kubernetes, Terraform, and calm "
     "incident response.", "location": "Stockholm, Sweden",
     "skills": ["Kubernetes", "Terraform", "AWS", "Python"],
     "education": ("KTH Royal Institute of Technology", "MSc", "Distributed Systems", 2009, 2014),
     "portfolio": ("Zero-downtime migration", "https://example.com/migration",
                   "Moved a retailer from VMs to Kubernetes without an outage.")},
    {"username": "eve", "inviter": "admin", "display_name": "Eve Adeyemi",
     "account_type": "organization", "organization_name": "Eve Labs",
     "headline": "A four-person studio for data products", "bio": "We build dashboards and "
     "data pipelines for small companies.", "location": "London, UK",
     "skills": ["Data engineering", "Python", "dbt"],
     "education": ("Imperial College London", "MEng", "Computing", 2006, 2010),
     "portfolio": ("Sales dashboard", "https://example.com/dashboard",
                   "Daily numbers for a 200-shop chain.")},
]
