"""The demo data set (`journeyline demo`): a month of a shop's customers through the pipeline."""
