/* journeyline browser tracker: placeholder until the tracker lands. */
