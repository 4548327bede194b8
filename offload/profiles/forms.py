"""Forms of the profile pages. They check shape; the services check the rules.

The edit page shows several forms at once, so each section's form has a prefix
(``education-school``) to keep field names and ids apart.
"""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Optional

from offload.core.forms import MARKDOWN_HINT, ButtonForm, OffloadForm, at_most

from .models import (
    BIO_MAX,
    DEGREE_MAX,
    DESCRIPTION_MAX,
    DISPLAY_NAME_MAX,
    HEADLINE_MAX,
    LOCATION_MAX,
    ORGANIZATION_MAX,
    SCHOOL_MAX,
    SKILL_NAME_MAX,
    SKILLS_PER_MEMBER_MAX,
    TITLE_MAX,
    URL_MAX,
    DocumentKind,
)


class ProfileForm(OffloadForm):
    display_name = StringField("Display name", validators=[
        InputRequired("Enter the name other members will see."),
        at_most(DISPLAY_NAME_MAX, "Display name")])
    headline = StringField("Headline", validators=[at_most(HEADLINE_MAX, "Headline")],
                           description="One line under your name, for example "
                                       "“Backend developer — Django, PostgreSQL”.")
    location = StringField("Location", validators=[at_most(LOCATION_MAX, "Location")],
                           description="A city, a region or “Remote”.")
    organization_name = StringField("Organization name", validators=[
        InputRequired("Organization accounts need an organization name."),
        at_most(ORGANIZATION_MAX, "Organization name")])
    bio = TextAreaField("About you", validators=[at_most(BIO_MAX, "About you")],
                        description=MARKDOWN_HINT, render_kw={"rows": 10})
    skills = StringField("Skills", validators=[
        at_most(SKILLS_PER_MEMBER_MAX * (SKILL_NAME_MAX + 2), "The skill list")],
        description=f"Separate skills with commas, for example “Python, PostgreSQL, "
                    f"Flask”. Up to {SKILLS_PER_MEMBER_MAX}; new skills are added to the "
                    f"shared list.")

    def skill_names(self) -> list[str]:
        return (self.skills.data or "").split(",")


class EducationForm(OffloadForm):
    school = StringField("School", validators=[InputRequired("Enter the school's name."),
                                               at_most(SCHOOL_MAX, "School")])
    degree = StringField("Degree", validators=[at_most(DEGREE_MAX, "Degree")],
                         description="For example “BSc” or “Certificate”.")
    field_of_study = StringField("Field of study",
                                 validators=[at_most(DEGREE_MAX, "Field of study")])
    start_year = IntegerField("Start year", validators=[InputRequired("Enter a year.")])
    end_year = IntegerField("End year", validators=[Optional()],
                            description="Leave empty if you study there now.")

    def entry(self) -> dict:
        return {"school": self.school.data, "degree": self.degree.data,
                "field_of_study": self.field_of_study.data,
                "start_year": self.start_year.data, "end_year": self.end_year.data}


class PortfolioForm(OffloadForm):
    title = StringField("Title", validators=[InputRequired("Give the item a title."),
                                             at_most(TITLE_MAX, "Title")])
    url = URLField("Link", validators=[InputRequired("Enter the address of your work."),
                                       at_most(URL_MAX, "The address")],
                   description="A full address starting with https:// or http://.")
    description = TextAreaField("Description",
                                validators=[at_most(DESCRIPTION_MAX, "Description")],
                                description=MARKDOWN_HINT, render_kw={"rows": 4})

    def item(self) -> dict:
        return {"title": self.title.data, "url": self.url.data,
                "description": self.description.data}


class DocumentForm(OffloadForm):
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in DocumentKind],
                       validators=[InputRequired()])
    title = StringField("Title", validators=[InputRequired("Give the document a title."),
                                             at_most(TITLE_MAX, "Title")],
                        description="For example “AWS Solutions Architect certificate”.")
    file = FileField("File", validators=[FileRequired("Choose a file to upload.")])

    def document(self) -> dict:
        return {"kind": self.kind.data, "title": self.title.data, "file_storage": self.file.data}


class PhotoForm(OffloadForm):
    photo = FileField("Choose a photo", validators=[FileRequired("Choose a photo to upload.")],
                      description="It is cropped to a square from the centre; details stored "
                                  "in the file, such as where it was taken, are removed.",
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})


ConfirmForm = ButtonForm  # the CSRF token of a delete button
